from unmeet.cli import main

main()
