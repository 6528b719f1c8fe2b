import NN

/// The bridge from a resolved spec cell to what the runner executes.
extension ExperimentConfig {
    /// The model, training, optimizer and evaluation plan of this cell.
    public var cellPlan: CellPlan {
        let recipe = ModelRecipe(
            architecture: model, norm: norm, groups: groups, momentum: momentum,
            trackRunningStats: trackRunningStats, ghostBatchSize: ghostBatchSize, eps: eps,
            dropout: dropProbability,
            renormLimits: BatchRenorm.Limits(rMax: renorm.rMax, dMax: renorm.dMax,
                                             warmupSteps: renorm.warmupSteps, rampSteps: renorm.rampSteps))
        let training = TrainingPlan(epochs: epochs, batchSize: batchSize, order: order, dropLast: dropLast,
                                    frozenEpochs: frozenBNEpochs)
        let samples: Int?
        switch recalibrateSamples {
        case .all: samples = nil
        case .count(let n): samples = n
        }
        let evaluation = EvaluationPlan(evalBatchSize: evalBatchSize, recalibrateSamples: samples,
                                        recalibrateBatchSize: recalibrateBatchSize, estimator: recalibrateEstimator,
                                        recalibrateOnTest: recalibrateData == .test, mcSamples: mcSamples,
                                        forgotEval: forgotEval, metricBug: metricBug)
        return CellPlan(model: recipe, optimizer: optimizer, lrScaling: lrScaling, baseBatchSize: baseBatchSize,
                        training: training, evaluation: evaluation, seed: seed)
    }

    /// The setting columns of a result row, `[name, value used]`: `variant` first
    /// when the cell has one (every cell of a spec that sweeps variants), then
    /// every sweepable setting in the key table's order, with the value after the
    /// variant's overrides; empty for a setting that does not apply in the cell
    /// and whose relevance rule says so (`jitter_apply` without a jitter,
    /// ``SpecRules/showsInTables(_:_:)``).
    public var settingColumns: [[String]] {
        let variantColumn = variant.map { [["variant", $0]] } ?? []
        return variantColumn + SpecKeyTable.settings.filter(\.sweepable).map { key in
            [key.name, SpecRules.showsInTables(key.name, self) ? key.render(self) ?? "" : ""]
        }
    }
}
