import NN

import Foundation

// MARK: - Model

extension SettingParsers {
    /// `cnn channels=C1,C2,... [kernel=K]` (K odd) | `mlp widths=W1,W2,...`.
    static func model(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let model: ModelArchitecture
        if try kind.oneOf("model", ["cnn", "mlp"]) == "cnn" {
            let k = try input.keywords("model cnn", allowed: ["channels", "kernel"])
            let channels = try k.required("channels").integerList("cnn channels", atLeast: 1)
            var kernel = 3
            if let token = k.optional("kernel") {
                kernel = try token.integer("cnn kernel", atLeast: 1)
                guard kernel % 2 == 1 else {
                    throw SpecProblem(token.location, "cnn kernel must be odd (padding K/2 keeps the"
                                      + " image size only for odd K), got \(quoted(token.text))")
                }
            }
            model = .cnn(channels: channels, kernel: kernel)
        } else {
            let k = try input.keywords("model mlp", allowed: ["widths"])
            model = .mlp(widths: try k.required("widths").integerList("mlp widths", atLeast: 1))
        }
        return { $0.model = model }
    }

    static func renderModel(_ config: ExperimentConfig) -> String {
        func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }
        switch config.model {
        case let .cnn(channels, kernel): return "cnn channels=\(list(channels)) kernel=\(kernel)"
        case let .mlp(widths): return "mlp widths=\(list(widths))"
        }
    }

    /// A number in (0, 1] or `cumulative`. Whether the value looks pasted from the other framework
    /// depends on `momentum_convention`, another line: ``SpecRules/momentumWarnings(_:)`` warns over the grid.
    static func momentum(_ input: inout SettingInput) throws -> SettingAssignment {
        let token = try input.single()
        if token.text == "cumulative" { return { $0.momentum = .cumulative } }
        guard SpecNumber.isDecimal(token.text) else {
            throw SpecProblem(token.location, "momentum must be a number in (0, 1] or 'cumulative', got"
                              + " \(quoted(token.text))" + NearestName.suggestion(for: token.text, in: ["cumulative"]))
        }
        let value = try token.float("momentum", in: .positiveFraction)
        return { $0.momentum = .exponential(value) }
    }

    static func renderMomentum(_ config: ExperimentConfig) -> String {
        switch config.momentum {
        case .cumulative: return "cumulative"
        case let .exponential(m): return SpecNumber.format(m)
        }
    }

    /// `off` or an integer >= 2.
    static func ghostBatchSize(_ input: inout SettingInput) throws -> SettingAssignment {
        let size = try input.single().integer("ghost_batch_size", atLeast: 2, orWord: "off")
        return { $0.ghostBatchSize = size }
    }

    static func renderGhostBatchSize(_ config: ExperimentConfig) -> String {
        config.ghostBatchSize.map(String.init) ?? "off"
    }

    /// `[rmax=R] [dmax=D] [warmup_steps=N] [ramp_steps=N]`, R >= 1, D >= 0, N >= 0.
    static func renorm(_ input: inout SettingInput) throws -> SettingAssignment {
        let k = try input.keywordsOnly("renorm", allowed: ["rmax", "dmax", "warmup_steps", "ramp_steps"])
        var schedule = RenormSchedule()
        if let t = k.optional("rmax") { schedule.rMax = try t.float("renorm rmax", in: .atLeast(1)) }
        if let t = k.optional("dmax") { schedule.dMax = try t.float("renorm dmax", in: .atLeast(0)) }
        if let t = k.optional("warmup_steps") { schedule.warmupSteps = try t.integer("renorm warmup_steps", atLeast: 0) }
        if let t = k.optional("ramp_steps") { schedule.rampSteps = try t.integer("renorm ramp_steps", atLeast: 0) }
        let value = schedule
        return { $0.renorm = value }
    }

    static func renderRenorm(_ config: ExperimentConfig) -> String {
        let r = config.renorm
        return "rmax=\(SpecNumber.format(r.rMax)) dmax=\(SpecNumber.format(r.dMax))"
            + " warmup_steps=\(r.warmupSteps) ramp_steps=\(r.rampSteps)"
    }
}
