from wvzscan.cli import main

main()
