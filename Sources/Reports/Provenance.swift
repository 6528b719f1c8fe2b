import Experiment

/// Where a spec's numbers were computed: the bnlab build, the OpenBLAS library and kernel set, the CPU.
/// Written beside the tables as `<spec>-provenance.csv` (RFC 4180, a `key,value` header, one row per
/// key of ``keys``) and quoted in the report; the tables themselves stay plain CSV.
///
/// A cell's numbers depend only on its settings and seed for a given build and kernel set: OpenBLAS
/// picks its GEMM kernels for the CPU at load time (a DYNAMIC_ARCH build), and kernels differ in the
/// order they sum products, so another kernel set rounds differently and training drifts apart.
/// `OPENBLAS_CORETYPE=<core>` forces a kernel set, which reproduces the tables on any x86-64 machine
/// that can execute it.
public struct Provenance: Equatable, Sendable {
    /// bnlab's version (`BNLab.version`).
    public var bnlabVersion: String
    /// The build identity: the hash of the sources that computed the cells (`BNLab.buildIdentity`).
    public var build: String
    /// OpenBLAS's build description, `openblas_get_config()`: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public var openBLASConfiguration: String
    /// The kernel set OpenBLAS runs, `openblas_get_corename()`: "Haswell", "SkylakeX", "Cooperlake", "Zen".
    public var openBLASCore: String
    /// The CPU: the first `model name` of /proc/cpuinfo, or "unknown".
    public var cpuModel: String

    public init(bnlabVersion: String, build: String, openBLASConfiguration: String, openBLASCore: String,
                cpuModel: String) {
        self.bnlabVersion = bnlabVersion
        self.build = build
        self.openBLASConfiguration = openBLASConfiguration
        self.openBLASCore = openBLASCore
        self.cpuModel = cpuModel
    }

    /// OpenBLAS's version, the word after "OpenBLAS" in ``openBLASConfiguration``; "unknown" without one.
    public var openBLASVersion: String {
        let words = openBLASConfiguration.split(separator: " ")
        guard words.count >= 2, words[0] == "OpenBLAS" else { return "unknown" }
        return String(words[1])
    }

    /// The rows of `<spec>-provenance.csv`, in file order (`openblas_version` is derived from `openblas_config`).
    public static let keys = ["bnlab_version", "build", "openblas_version", "openblas_config", "openblas_core", "cpu_model"]

    /// The file name beside the tables: `<spec>-provenance.csv`.
    public static func fileName(spec: String) -> String { "\(spec)-provenance.csv" }

    /// The text of `<spec>-provenance.csv`.
    public var csv: String {
        let values = [bnlabVersion, build, openBLASVersion, openBLASConfiguration, openBLASCore, cpuModel]
        return CSV.table(header: ["key", "value"], rows: zip(Self.keys, values).map { [$0, $1] })
    }

    /// Reads `<spec>-provenance.csv` back.
    /// - Throws: ``ProvenanceFormatError`` when the header is not `key,value` or a key is missing.
    public init(csv text: String) throws {
        let table = Table(csv: text)
        guard table.header == ["key", "value"] else { throw ProvenanceFormatError(reason: "the header is not key,value") }
        var values: [String: String] = [:]
        for row in table.rows where row.count == 2 { values[row[0]] = row[1] }
        func value(_ key: String) throws -> String {
            guard let v = values[key] else { throw ProvenanceFormatError(reason: "no row '\(key)'") }
            return v
        }
        self.init(bnlabVersion: try value("bnlab_version"), build: try value("build"),
                  openBLASConfiguration: try value("openblas_config"), openBLASCore: try value("openblas_core"),
                  cpuModel: try value("cpu_model"))
    }
}

/// A `<spec>-provenance.csv` that does not read back.
public struct ProvenanceFormatError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
