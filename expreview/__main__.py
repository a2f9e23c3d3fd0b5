from expreview.cli import main

main()
