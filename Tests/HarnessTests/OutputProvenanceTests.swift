import Reports
import XCTest

/// `<spec>-provenance.csv`: plain RFC 4180 `key,value` rows, whole text, and its reading back.
final class OutputProvenanceTests: XCTestCase {
    /// The CPU model holds a comma, so it is quoted; `openblas_version` is the word after "OpenBLAS".
    static let provenance = Provenance(
        bnlabVersion: "0.1.0", build: "0123456789abcdef",
        openBLASConfiguration: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64",
        openBLASCore: "Cooperlake", cpuModel: "Intel(R) Xeon(R) Gold 6338, 2.00GHz")

    static let csv = """
        key,value
        bnlab_version,0.1.0
        build,0123456789abcdef
        openblas_version,0.3.21
        openblas_config,OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64
        openblas_core,Cooperlake
        cpu_model,"Intel(R) Xeon(R) Gold 6338, 2.00GHz"

        """

    func testTheWholeFile() {
        XCTAssertEqual(Self.provenance.csv, Self.csv)
        XCTAssertEqual(Provenance.fileName(spec: "tiny"), "tiny-provenance.csv")
    }

    func testItReadsBackAsWritten() throws {
        XCTAssertEqual(try Provenance(csv: Self.csv), Self.provenance)
    }

    /// A configuration that does not start with "OpenBLAS VERSION" has no version to quote.
    func testAnUnrecognizedConfigurationHasAnUnknownVersion() {
        var p = Self.provenance
        p.openBLASConfiguration = "unknown"
        XCTAssertEqual(p.openBLASVersion, "unknown")
    }

    /// A file that is not `key,value`, or lacks a key, is refused, naming what is wrong.
    func testAMalformedFileIsRefused() {
        XCTAssertThrowsError(try Provenance(csv: "spec,seed\n")) { error in
            XCTAssertEqual("\(error)", "the header is not key,value")
        }
        let withoutCore = Self.csv.replacingOccurrences(of: "openblas_core,Cooperlake\n", with: "")
        XCTAssertThrowsError(try Provenance(csv: withoutCore)) { error in
            XCTAssertEqual("\(error)", "no row 'openblas_core'")
        }
    }
}
