/// The numbers measured for one cell, by ``Metric``; a metric without a value was not measured.
public struct CellMeasurements: Sendable {
    public var status: CellStatus = .ok
    /// The measured columns; percentages for accuracies (``Metric/unit``).
    public var values: [Metric: Double] = [:]
    public var statisticsErrors: [StatisticsError] = []
    public var recalibratedStatisticsErrors: [StatisticsError] = []
    /// The evaluations after every epoch (`epoch_eval`); empty without.
    public var epochEvaluations: [EpochEvaluation] = []
    public var wallSeconds: Double = 0
    /// Measurements left empty because the layers refused them, each `COLUMN not measured: REASON`
    /// (a batch-statistics pass whose last batch has one value per channel, as PyTorch refuses).
    public var notes: [String] = []
    public init() {}

    /// The value of `metric`; nil = not measured.
    public subscript(metric: Metric) -> Double? {
        get { values[metric] }
        set { values[metric] = newValue }
    }

    /// `status_detail`: the reason for a non-ok status, or the notes of an ok cell.
    public var detail: String {
        let d = status.detail
        return ([d].filter { !$0.isEmpty } + notes).joined(separator: "; ")
    }
}
