@testable import Experiment
@testable import Reports

/// Two cells (`batch_size` 2 and 4) x two seeds of the spec "tiny", with numbers chosen so
/// that every mean and standard deviation is easy to compute by hand (see
/// OutputResultTablesTests). Seed 1 of batch size 4 diverged: its loss and one accuracy are NaN.
enum SampleRecords {
    static let layer = "BatchNorm(4, momentum=0.1)"

    struct Row {
        var batchSize: Int, seed: UInt64, status: CellStatus, learningRate: Double
        var accuracies: [Double]  // train running, train eval, test train, test eval, recalibrated, batch stats
        var loss: Double
        var statistics: (Double, Double), recalibrated: (Double, Double)?
        var wall: Double
    }

    static let rows: [Row] = [
        Row(batchSize: 2, seed: 0, status: .ok, learningRate: 0.01, accuracies: [90, 80, 85, 50, 70, 60], loss: 0.5,
            statistics: (0.123456, 1.5), recalibrated: (0.001, 0.0025), wall: 1.234),
        Row(batchSize: 2, seed: 1, status: .ok, learningRate: 0.01, accuracies: [93, 82, 87, 60, 72, 64], loss: 0.25,
            statistics: (0.2, 2.5), recalibrated: (0.003, 0.0035), wall: 2.5),
        Row(batchSize: 4, seed: 0, status: .ok, learningRate: 0.02, accuracies: [95, 94, 91, 89, 90, 88], loss: 0.125,
            statistics: (0.05, 0.4), recalibrated: nil, wall: 0.75),
        Row(batchSize: 4, seed: 1, status: .diverged(Divergence(epoch: 1, step: 3)), learningRate: 0.02,
            accuracies: [40, .nan, 25, 30, 35, 20], loss: .nan,
            statistics: (.nan, .infinity), recalibrated: nil, wall: 0.5),
    ]

    /// The records in grid order (index = position).
    static var records: [CellRecord] {
        rows.enumerated().map { index, row in
            var m = CellMeasurements()
            m.status = row.status
            m[.lrUsed] = row.learningRate
            m[.testOverlap] = 0
            m[.trainAccRunning] = row.accuracies[0]
            m[.trainAccEvalMode] = row.accuracies[1]
            m[.testAccTrainMode] = row.accuracies[2]
            m[.testAccEvalMode] = row.accuracies[3]
            m[.testAccRecalibrated] = row.accuracies[4]
            m[.testAccBatchStats] = row.accuracies[5]
            m[.finalTrainLoss] = row.loss
            m[.recalibrationSamples] = 60
            m.statisticsErrors = [StatisticsError(layerIndex: 0, layerName: layer, channels: 4,
                                                  meanError: row.statistics.0, varianceError: row.statistics.1)]
            m.recalibratedStatisticsErrors = row.recalibrated.map {
                [StatisticsError(layerIndex: 0, layerName: layer, channels: 4, meanError: $0.0, varianceError: $0.1)]
            } ?? []
            m.wallSeconds = row.wall
            return CellRecord(index: index, key: "batch_size=\(row.batchSize) seed=\(row.seed)",
                              settings: [["batch_size", String(row.batchSize)]], seed: row.seed, measurements: m)
        }
    }

    static var tables: ResultTables { ResultTables(spec: "tiny", records: records.reversed()) }
}
