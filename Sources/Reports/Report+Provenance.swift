import Experiment

extension Report {
    /// The report's provenance paragraph: what computed the numbers, and the command that reproduces
    /// them byte for byte (`make experiments` for `Experiments/<spec>.spec`, else `bnlab run <specPath>`)
    /// with OpenBLAS's kernel set forced to the one that computed them.
    static func provenanceParagraph(_ provenance: Provenance, spec: String, specPath: String) -> String {
        let core = provenance.openBLASCore
        let run = specPath == "Experiments/\(spec).spec" ? "make experiments" : "bnlab run \(specPath)"
        return "Computed by bnlab \(provenance.bnlabVersion) (build `\(provenance.build)`) with OpenBLAS "
            + "\(provenance.openBLASVersion) running its \(core) kernels (CPU: \(provenance.cpuModel); all in "
            + "[`\(Provenance.fileName(spec: spec))`](\(Provenance.fileName(spec: spec)))). The numbers depend on the "
            + "build and on OpenBLAS's kernel set: with this build, `OPENBLAS_CORETYPE=\(core) \(run)` reproduces "
            + "the tables byte for byte (`wall_seconds` aside) on any x86-64 machine that can run the \(core) kernels.\n\n"
    }
}
