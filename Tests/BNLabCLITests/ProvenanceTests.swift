@testable import BNLabCLI
import Experiment
import Foundation
import Reports
import TensorCore
import XCTest

/// The build identity and the machine provenance that `bnlab run` records: the identity is the hash of
/// the sources this build was compiled from, `--version` prints it, journals and provenance files name it.
final class ProvenanceTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testBuildIdentityIsSixteenHexDigits() {
        XCTAssertEqual(BNLab.buildIdentity.count, 16)
        XCTAssertTrue(BNLab.buildIdentity.allSatisfy { "0123456789abcdef".contains($0) }, BNLab.buildIdentity)
    }

    /// BuildIdentityTool's hash, recomputed here with TensorCore's FNV-1a from the files the plugin lists
    /// (Package.swift, then every non-hidden file under Sources/ in byte order of its path): the identity is a
    /// function of the sources' contents, so any edit to one changes it. Fails when the sources changed since
    /// the build (rebuild first).
    func testBuildIdentityIsTheHashOfPackageSwiftAndSources() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let walker = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.isRegularFileKey],
                                                                  options: [.skipsHiddenFiles]))
        var paths: [String] = []
        for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            paths.append("Sources/" + url.standardizedFileURL.path.dropFirst(sources.standardizedFileURL.path.count + 1))
        }
        paths.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertTrue(paths.contains("Sources/NN/BatchNorm.swift") && paths.contains("Sources/COpenBLAS/shim.h"))
        var manifest = ""
        for path in ["Package.swift"] + paths {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            manifest += path + "\0" + String(text.utf8.count) + "\0" + text
        }
        XCTAssertEqual(BNLab.buildIdentity, FNV1a.hex(FNV1a.hash64(manifest)),
                       "the build identity is not the hash of the sources: were they edited since the build?")
    }

    /// `bnlab --version` names the build.
    func testVersionPrintsTheBuildIdentity() throws {
        let outcome = try BNLabChild.run(["--version"], in: try scratchDirectory(for: self))
        XCTAssertEqual(outcome.status, 0)
        XCTAssertEqual(outcome.standardOutput, "bnlab \(BNLab.version) (build \(BNLab.buildIdentity))\n")
    }

    func testCPUModelIsTheFirstModelNameLine() {
        let cpuinfo = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model\t\t: 106
            model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
            flags\t\t: fpu vme

            processor\t: 1
            model name\t: Something Else

            """
        XCTAssertEqual(Provenance.cpuModel(cpuinfo: cpuinfo), "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
        XCTAssertEqual(Provenance.cpuModel(cpuinfo: "processor\t: 0\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x41\n"), "unknown")
        XCTAssertEqual(Provenance.cpuModel(cpuinfo: ""), "unknown")
    }

    /// This process's provenance is this build's, with what OpenBLAS reports about itself.
    func testThisProcessNamesThisBuildAndItsOpenBLAS() {
        let p = Provenance.thisProcess
        XCTAssertEqual(p.bnlabVersion, BNLab.version)
        XCTAssertEqual(p.build, BNLab.buildIdentity)
        XCTAssertEqual(p.openBLASConfiguration, BLAS.configuration)
        XCTAssertTrue(p.openBLASConfiguration.hasPrefix("OpenBLAS "), p.openBLASConfiguration)
        XCTAssertEqual(p.openBLASCore, BLAS.coreName)
        XCTAssertFalse(p.openBLASCore.isEmpty)
        XCTAssertFalse(p.cpuModel.isEmpty)
    }
}
