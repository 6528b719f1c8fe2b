import NN

import Foundation

// MARK: - Model

extension SettingParsers {
    /// `cnn channels=C1,C2,... [kernel=K]` (K odd) | `mlp widths=W1,W2,...` |
    /// `resnet blocks=B1,B2,... channels=C1,C2,... [stem=C0]` (as many blocks as channels).
    static func model(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let model: ModelArchitecture
        switch try kind.oneOf("model", ["cnn", "mlp", "resnet"]) {
        case "cnn":
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
        case "mlp":
            let k = try input.keywords("model mlp", allowed: ["widths"])
            model = .mlp(widths: try k.required("widths").integerList("mlp widths", atLeast: 1))
        default:
            let k = try input.keywords("model resnet", allowed: ["blocks", "channels", "stem"])
            let blocks = try k.required("blocks").integerList("resnet blocks", atLeast: 1)
            let channelsToken = try k.required("channels")
            let channels = try channelsToken.integerList("resnet channels", atLeast: 1)
            guard channels.count == blocks.count else {
                throw SpecProblem(channelsToken.location, "resnet channels gives \(channels.count) stage"
                                  + "\(channels.count == 1 ? "" : "s"), blocks \(blocks.count): one width per stage")
            }
            let stem = try k.optional("stem")?.integer("resnet stem", atLeast: 1) ?? channels[0]
            model = .resnet(blocks: blocks, channels: channels, stem: stem)
        }
        return { $0.model = model }
    }

    static func renderModel(_ config: ExperimentConfig) -> String {
        func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }
        switch config.model {
        case let .cnn(channels, kernel): return "cnn channels=\(list(channels)) kernel=\(kernel)"
        case let .mlp(widths): return "mlp widths=\(list(widths))"
        case let .resnet(blocks, channels, stem): return "resnet blocks=\(list(blocks)) channels=\(list(channels)) stem=\(stem)"
        }
    }

    /// `relu` | `leaky_relu [slope=S]`, S in [0, 1) (default 0.01, PyTorch's).
    static func activation(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let activation: Activation
        if try kind.oneOf("activation", ["relu", "leaky_relu"]) == "relu" {
            _ = try input.single()  // relu has no settings
            activation = .relu
        } else {
            let k = try input.keywords("activation leaky_relu", allowed: ["slope"])
            activation = .leakyReLU(slope: try k.optional("slope")?.float("leaky_relu slope", in: .fractionBelowOne) ?? 0.01)
        }
        return { $0.activation = activation }
    }

    static func renderActivation(_ config: ExperimentConfig) -> String {
        switch config.activation {
        case .relu: return "relu"
        case .leakyReLU(let slope): return "leaky_relu slope=\(SpecNumber.format(slope))"
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

    /// `[buffer=B] [warmup=N]`, B >= 1, N >= 0.
    static func mabn(_ input: inout SettingInput) throws -> SettingAssignment {
        let k = try input.keywordsOnly("mabn", allowed: ["buffer", "warmup"])
        var settings = MABNSettings()
        if let t = k.optional("buffer") { settings.bufferSize = try t.integer("mabn buffer", atLeast: 1) }
        if let t = k.optional("warmup") { settings.warmupIterations = try t.integer("mabn warmup", atLeast: 0) }
        let value = settings
        return { $0.mabn = value }
    }

    static func renderMABN(_ config: ExperimentConfig) -> String {
        "buffer=\(config.mabn.bufferSize) warmup=\(config.mabn.warmupIterations)"
    }

    /// `[buffer=K] [burnin=N] [rho=R] [two_stage=on|off]`, K >= 1, N >= 0, R any number; `two_stage off`
    /// needs `burnin > 0` (CBN.py divides by it).
    static func cbn(_ input: inout SettingInput) throws -> SettingAssignment {
        let k = try input.keywordsOnly("cbn", allowed: ["buffer", "burnin", "rho", "two_stage"])
        var settings = CBNSettings()
        if let t = k.optional("buffer") { settings.bufferSize = try t.integer("cbn buffer", atLeast: 1) }
        if let t = k.optional("burnin") { settings.burnin = try t.integer("cbn burnin", atLeast: 0) }
        if let t = k.optional("rho") { settings.rho = try t.float("cbn rho", in: .any) }
        if let t = k.optional("two_stage") {
            settings.twoStage = try t.onOff("cbn two_stage")
            if !settings.twoStage && settings.burnin == 0 {
                throw SpecProblem(t.location, "cbn two_stage off ramps the buffer over burnin iterations and needs"
                                  + " burnin >= 1, got burnin \(settings.burnin)")
            }
        }
        let value = settings
        return { $0.cbn = value }
    }

    static func renderCBN(_ config: ExperimentConfig) -> String {
        let c = config.cbn
        return "buffer=\(c.bufferSize) burnin=\(c.burnin) rho=\(SpecNumber.format(c.rho)) two_stage=\(c.twoStage ? "on" : "off")"
    }
}
