import Foundation
import Experiment
import Reports
import SpecFormat

/// `bnlab report`: rebuilds charts and `<spec>.md` from the tables already in the output directory,
/// quoting the provenance the run recorded beside them (`<spec>-provenance.csv`; without that file,
/// tables written before bnlab recorded it, the report has no provenance paragraph).
enum ReportExecution {
    static func execute(_ command: ReportCommand) throws -> Int32 {
        let specs = try SpecFiles.load(command.specs, printWarnings: false)
        for spec in specs {
            let summaryPath = "\(command.outputDirectory)/\(spec.name)-summary.csv"
            let statisticsPath = "\(command.outputDirectory)/\(spec.name)-bnstats.csv"
            guard let summary = try? String(contentsOfFile: summaryPath, encoding: .utf8),
                  let statistics = try? String(contentsOfFile: statisticsPath, encoding: .utf8) else {
                throw CommandFailure.input("\(summaryPath): error: no tables for \(spec.name); run 'bnlab run \(spec.path)' first")
            }
            let values: Summary
            do { values = try Summary(csv: summary) } catch {
                throw CommandFailure.input("\(summaryPath): error: \(error); rerun 'bnlab run \(spec.path)'")
            }
            let provenancePath = "\(command.outputDirectory)/\(Provenance.fileName(spec: spec.name))"
            var provenance: Provenance?
            if let text = try? String(contentsOfFile: provenancePath, encoding: .utf8) {
                do { provenance = try Provenance(csv: text) } catch {
                    throw CommandFailure.input("\(provenancePath): error: \(error); rerun 'bnlab run \(spec.path)'")
                }
            }
            try SpecOutputs.writeReport(spec: spec, directory: command.outputDirectory, summary: values,
                                        statistics: Table(csv: statistics), provenance: provenance)
            Console.out("\(command.outputDirectory)/\(spec.name).md")
        }
        return 0
    }
}
