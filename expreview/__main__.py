from expreview.console import main

main()
