import BNLabCLI
import Foundation

exit(BNLab.main(Array(CommandLine.arguments.dropFirst())))
