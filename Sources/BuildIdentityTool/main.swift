// BuildIdentityTool ROOT OUTPUT FILE...: writes OUTPUT, a Swift file holding
//     let generatedBuildIdentity = "<16 hex digits>"
// the FNV-1a 64 hash (TensorCore/FNV1a.swift's function; this tool runs on the build machine and
// links nothing of bnlab) of, for each FILE in the order given (paths relative to ROOT):
//     path UTF-8 bytes, 0x00, the file's byte count in decimal, 0x00, the file's bytes
// Run by BuildIdentityPlugin at build time; BuildIdentityTests recomputes the same hash.
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: BuildIdentityTool ROOT OUTPUT FILE...\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1])
/// FNV-1a 64, fed a piece at a time.
struct FNV1a64 {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }
}
var hash = FNV1a64()
for path in arguments.dropFirst(3) {
    guard let contents = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else {
        FileHandle.standardError.write(Data("BuildIdentityTool: error: cannot read \(path)\n".utf8))
        exit(1)
    }
    hash.mix(path.utf8); hash.mix([0]); hash.mix(String(contents.count).utf8); hash.mix([0]); hash.mix(contents)
}
let digits = String(hash.value, radix: 16)
let identity = String(repeating: "0", count: 16 - digits.count) + digits
let text = """
    // Generated at build time by BuildIdentityTool from Package.swift and Sources/; do not edit.
    /// The hash of every source that can move a number (see BNLab.buildIdentity).
    let generatedBuildIdentity = "\(identity)"

    """
do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: arguments[2]), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("BuildIdentityTool: error: cannot write \(arguments[2]): \(error)\n".utf8))
    exit(1)
}
