import Foundation
import PackagePlugin

/// Gives the target it is applied to (BNLabCLI) a file `BuildIdentity.swift` holding
/// `let generatedBuildIdentity = "<16 hex digits>"`: a hash of the contents of every file that
/// can move a number, computed at build time by `BuildIdentityTool`.
///
/// The inputs are `Package.swift` and every file under `Sources/` except hidden ones (editor swap
/// files, `.DS_Store`), so the build command reruns, and the identity changes, whenever one of
/// them changes; the file list is also passed as arguments, so adding or removing a file reruns it.
/// The generated file lives in the plugin's work directory under `.build/`, never in `Sources/`.
@main
struct BuildIdentityPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let relativePaths = ["Package.swift"] + sourceFiles(under: root, in: "Sources")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildIdentity.swift")
        return [.buildCommand(
            displayName: "Computing the build identity",
            executable: try context.tool(named: "BuildIdentityTool").url,
            arguments: [root.path, output.path] + relativePaths,
            inputFiles: relativePaths.map { root.appending(path: $0) },
            outputFiles: [output])]
    }

    /// The regular, non-hidden files under `root/folder`, as paths relative to `root`, sorted.
    private func sourceFiles(under root: URL, in folder: String) -> [String] {
        let base = root.appending(path: folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var paths: [String] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let relative = url.standardizedFileURL.path.dropFirst(base.standardizedFileURL.path.count + 1)
            paths.append(folder + "/" + relative)
        }
        return paths.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
