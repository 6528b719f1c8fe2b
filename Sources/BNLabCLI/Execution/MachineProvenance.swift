import Foundation
import Reports
import TensorCore

extension Provenance {
    /// This process's provenance: bnlab's version and build, the OpenBLAS it loaded, the CPU it runs on.
    static var thisProcess: Provenance {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return Provenance(bnlabVersion: BNLab.version, build: BNLab.buildIdentity, openBLASConfiguration: BLAS.configuration,
                          openBLASCore: BLAS.coreName, cpuModel: cpuModel(cpuinfo: cpuinfo))
    }

    /// The value of the first `model name` line of /proc/cpuinfo's text (`model name\t: Intel(R) ...`),
    /// trimmed; "unknown" when there is none (not Linux, or an architecture that names it otherwise).
    static func cpuModel(cpuinfo: String) -> String {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "model name" else { continue }
            let model = parts[1].trimmingCharacters(in: .whitespaces)
            return model.isEmpty ? "unknown" : model
        }
        return "unknown"
    }
}
