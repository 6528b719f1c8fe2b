import Foundation

/// `bnlab list`: the specs in a directory, one line each with their description
/// (the first comment line of the file).
enum ListExecution {
    static func execute(_ command: ListCommand) throws -> Int32 {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: command.directory) else {
            throw CommandFailure.input("\(command.directory): error: no such directory")
        }
        let specs = names.filter { $0.hasSuffix(".spec") }.sorted()
        let width = specs.map { $0.count - 5 }.max() ?? 0
        for file in specs {
            let text = (try? String(contentsOfFile: "\(command.directory)/\(file)", encoding: .utf8)) ?? ""
            let summary = text.split(separator: "\n").first { $0.hasPrefix("#") }
                .map { $0.drop { $0 == "#" || $0 == " " } } ?? ""
            let name = String(file.dropLast(5))
            Console.out(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + summary)
        }
        return 0
    }
}
