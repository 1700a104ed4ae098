import StitchCLI

StitchCommand.main()
