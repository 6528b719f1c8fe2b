/// "No stored-but-ignored settings" over a grid: every line that sets a key
/// must act in at least one cell where its value is the one in force.
///
/// A value's *source* is the line it is written on: a fixed line, a sweep
/// line, the `quick` line, or a `variant` line. A variant's override is in
/// force only in that variant's cells, and it replaces the fixed or swept
/// value there, so each source is judged on its own cells: a key that only some
/// variants use is fine, a variant's override that does nothing in its own
/// cells is refused, and so is a line that every cell's variant overrides.
extension SpecRules {
    /// A key that does nothing unless `applies` holds for the cell.
    private struct Relevance: Sendable {
        let key: String
        let applies: @Sendable (ExperimentConfig) -> Bool
        let otherwise: String
        /// Whether the result tables show the key's column empty in a cell where it does not apply
        /// (instead of its default, which would read as if it acted).
        var emptyInTables = false
    }

    private static let relevance: [Relevance] = {
        return [
            // Without a jitter there is nothing for jitter_apply to apply to: its column is empty. The
            // per-layer keys below keep their values in the tables (the PyTorch reference,
            // Benchmarks/pytorch_reference.py, builds every cell's layers from them).
            Relevance(key: "jitter_apply", applies: { $0.jitter != .none }, otherwise: "jitter is none",
                      emptyInTables: true),
            Relevance(key: "groups", applies: { $0.norm.groupedLayerName != nil },
                      otherwise: "no cell uses norm group or evonorm_s0"),
            Relevance(key: "renorm", applies: { $0.norm == .batchrenorm }, otherwise: "no cell uses norm batchrenorm"),
            // A residual network keeps its activation after each addition whatever the norm.
            Relevance(key: "activation", applies: { !$0.norm.includesActivation || $0.model.isResidual },
                      otherwise: "every cell uses a norm that brings its own nonlinearity (frn, evonorm_s0, evonorm_b0)"
                        + " in a model without residual additions"),
            Relevance(key: "mabn", applies: { $0.norm == .mabn }, otherwise: "no cell uses norm mabn"),
            Relevance(key: "cbn", applies: { $0.norm == .cbn }, otherwise: "no cell uses norm cbn"),
            // MABN's running variance has its own fixed 0.98 (MABN.py); the others follow `momentum`.
            Relevance(key: "momentum",
                      applies: { $0.norm.keepsRunningMeanAndVariance || $0.norm == .cbn || $0.norm == .evonormB0 },
                      otherwise: "no cell uses a norm whose running statistics follow it (batch, batchrenorm, cbn or"
                        + " evonorm_b0)"),
            Relevance(key: "momentum_convention",
                      applies: { $0.norm.keepsRunningMeanAndVariance || $0.norm == .cbn || $0.norm == .evonormB0 },
                      otherwise: "no cell uses a norm whose running statistics follow momentum (batch, batchrenorm, cbn"
                        + " or evonorm_b0)"),
            Relevance(key: "devices", applies: { $0.norm == .batch }, otherwise: "no cell uses norm batch"),
            // One device has no policy to choose: its column is empty there.
            Relevance(key: "device_bn", applies: { $0.devices > 1 }, otherwise: "devices is 1 in every cell",
                      emptyInTables: true),
            // BatchRenorm always tracks its statistics and has no ghost batches: only plain BatchNorm reads these.
            Relevance(key: "track_running_stats", applies: { $0.norm == .batch }, otherwise: "no cell uses norm batch"),
            Relevance(key: "ghost_batch_size", applies: { $0.norm == .batch }, otherwise: "no cell uses norm batch"),
            Relevance(key: "frozen_bn_epochs", applies: { $0.norm.keepsRunningMeanAndVariance || $0.norm == .evonormB0 },
                      otherwise: "no cell uses a norm whose eval mode FrozenBN can run (batch, batchrenorm or evonorm_b0)"),
            Relevance(key: "adapt_prior", applies: \.adaptsBatchNorm,
                      otherwise: "no cell uses a norm with BatchNorm's running statistics (norm batch with"
                        + " track_running_stats on, or batchrenorm)"),
            Relevance(key: "dropout_convention", applies: { $0.dropProbability > 0 }, otherwise: "no cell has dropout > 0"),
            Relevance(key: "dropout_in_eval", applies: { $0.dropProbability > 0 }, otherwise: "no cell has dropout > 0"),
            Relevance(key: "base_batch_size", applies: { $0.lrScaling != .none }, otherwise: "lr_scaling is none"),
            Relevance(key: "epochs", applies: { $0.steps == 0 }, otherwise: "steps is set: the step budget decides"),
            Relevance(key: "min_steps", applies: { $0.steps == 0 }, otherwise: "steps is set: the step budget decides"),
            Relevance(key: "validation_batch_size", applies: { $0.validation != .off }, otherwise: "validation is off",
                      emptyInTables: true),
            Relevance(key: "ema_decay", applies: { $0.weightAverage == .ema }, otherwise: "weight_average is not ema",
                      emptyInTables: true),
            Relevance(key: "weight_average_buffers", applies: { $0.weightAverage != .off },
                      otherwise: "weight_average is off", emptyInTables: true),
            Relevance(key: "finetune_shift", applies: { $0.finetuneEpochs > 0 }, otherwise: "finetune_epochs is 0",
                      emptyInTables: true),
            // Without running statistics every freeze method normalizes each batch alike.
            Relevance(key: "freeze", applies: { $0.finetuneEpochs > 0 && $0.hasRunningStatistics },
                      otherwise: "no cell fine-tunes (finetune_epochs > 0) a model whose norm keeps running"
                        + " statistics (batch with track_running_stats on, batchrenorm, evonorm_b0, mabn or cbn)",
                      emptyInTables: true),
            Relevance(key: "mixed_dropout_eval", applies: { $0.dropProbability > 0 && !$0.dropoutInEval },
                      otherwise: "no cell has dropout > 0 with dropout_in_eval off"),
            Relevance(key: "forgot_eval_batches", applies: \.forgotEval, otherwise: "forgot_eval is off",
                      emptyInTables: true),
            Relevance(key: "forgot_eval_shift", applies: \.forgotEval, otherwise: "forgot_eval is off",
                      emptyInTables: true),
        ]
    }()

    /// Whether a result table shows `key`'s value in `config`: false where the key's rule marks it as
    /// not applying and its column is then empty (`jitter_apply` without a jitter).
    static func showsInTables(_ key: String, _ config: ExperimentConfig) -> Bool {
        guard let rule = relevance.first(where: { $0.key == key }), rule.emptyInTables else { return true }
        return rule.applies(config)
    }

    /// Refuses a key that is set but acts in none of the cells where its
    /// source's value is in force, among the sources on `lines` (nil: every
    /// line). The error points at the source's first value.
    static func checkRelevance(_ cells: [ResolvedCell], lines: Set<Int>? = nil) throws {
        for rule in relevance {
            var first: [Int: (location: SourceLocation, variant: String?)] = [:]
            var acting = Set<Int>()
            for cell in cells {
                guard let location = cell.locations[rule.key], lines?.contains(location.line) ?? true else { continue }
                if first[location.line].map({ location < $0.location }) ?? true {
                    let variant = cell.variantKeys.contains(rule.key) ? cell.config.variant : nil
                    first[location.line] = (location, variant)
                }
                if rule.applies(cell.config) { acting.insert(location.line) }
            }
            let idle = first.filter { !acting.contains($0.key) }.values.min { $0.location < $1.location }
            if let (location, variant) = idle {
                let setter = variant.map { "set by variant \(quoted($0)) but has no effect in its cells" }
                    ?? "set but has no effect"
                throw SpecProblem(location, "\(quoted(rule.key)) is \(setter): \(rule.otherwise)")
            }
        }
    }

    /// Refuses a line (`key` written at `location`) whose value is in force in
    /// no cell because every cell's variant overrides `key`.
    static func checkNotAlwaysOverridden(_ cells: [ResolvedCell],
                                         _ sources: [(key: String, location: SourceLocation)]) throws {
        let overridden = sources.filter { source in
            !cells.contains { $0.locations[source.key]?.line == source.location.line }
        }
        if let source = overridden.min(by: { $0.location < $1.location }) {
            throw SpecProblem(source.location, "\(quoted(source.key)) is set but has no effect: the variant of every"
                              + " cell overrides it")
        }
    }
}
