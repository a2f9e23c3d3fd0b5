"""The output formats: text, json, verdict, github and sarif."""
