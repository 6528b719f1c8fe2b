// MARK: - Training and evaluation

extension SettingParsers {
    /// `sgd [lr=X] [momentum=M] [dampening=D] [weight_decay=W] [nesterov=on|off]` |
    /// `adam|adamw [lr=X] [betas=B1,B2] [eps=E] [weight_decay=W]`.
    static func optimizer(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let name = try kind.oneOf("optimizer", ["sgd", "adam", "adamw"])
        let optimizer: OptimizerSettings
        if name == "sgd" {
            let k = try input.keywords("optimizer sgd",
                                       allowed: ["lr", "momentum", "dampening", "weight_decay", "nesterov"])
            var s = SGDSettings()
            if let t = k.optional("lr") { s.learningRate = try t.float("sgd lr", in: .above(0)) }
            if let t = k.optional("momentum") { s.momentum = try t.float("sgd momentum", in: .fractionBelowOne) }
            if let t = k.optional("dampening") { s.dampening = try t.float("sgd dampening", in: .fraction) }
            if let t = k.optional("weight_decay") { s.weightDecay = try t.float("sgd weight_decay", in: .atLeast(0)) }
            if let t = k.optional("nesterov") {
                s.nesterov = try t.onOff("sgd nesterov")
                if s.nesterov && (s.momentum <= 0 || s.dampening != 0) {
                    throw SpecProblem(t.location, "sgd nesterov=on needs momentum > 0 and dampening 0"
                                      + " (PyTorch's rule), got momentum=\(SpecNumber.format(s.momentum))"
                                      + " dampening=\(SpecNumber.format(s.dampening))")
                }
            }
            optimizer = .sgd(s)
        } else {
            let k = try input.keywords("optimizer \(name)", allowed: ["lr", "betas", "eps", "weight_decay"])
            var a = AdamSettings(weightDecay: name == "adamw" ? 0.01 : 0)
            if let t = k.optional("lr") { a.learningRate = try t.float("\(name) lr", in: .above(0)) }
            if let t = k.optional("betas") {
                let betas = try t.split(",", count: 2, name: "\(name) betas", form: "B1,B2 (e.g. 0.9,0.999)")
                a.beta1 = try betas[0].float("\(name) beta1", in: .fractionBelowOne)
                a.beta2 = try betas[1].float("\(name) beta2", in: .fractionBelowOne)
            }
            if let t = k.optional("eps") { a.eps = try t.float("\(name) eps", in: .above(0)) }
            if let t = k.optional("weight_decay") { a.weightDecay = try t.float("\(name) weight_decay", in: .atLeast(0)) }
            optimizer = name == "adam" ? .adam(a) : .adamw(a)
        }
        return { $0.optimizer = optimizer }
    }

    static func renderOptimizer(_ config: ExperimentConfig) -> String {
        let f = SpecNumber.format
        switch config.optimizer {
        case let .sgd(s):
            return "sgd lr=\(f(s.learningRate)) momentum=\(f(s.momentum)) dampening=\(f(s.dampening))"
                + " weight_decay=\(f(s.weightDecay)) nesterov=\(s.nesterov ? "on" : "off")"
        case let .adam(a), let .adamw(a):
            return "\(config.optimizer.name) lr=\(f(a.learningRate)) betas=\(f(a.beta1)),\(f(a.beta2))"
                + " eps=\(f(a.eps)) weight_decay=\(f(a.weightDecay))"
        }
    }

    /// `constant` | `cosine [min=M]` | `step every=K [gamma=G]`, each with `[warmup=W] [warmup_start=S]`.
    static func lrSchedule(_ input: inout SettingInput) throws -> SettingAssignment {
        let kind = try input.first()
        let name = try kind.oneOf("lr_schedule", ["constant", "cosine", "step"])
        let shapeKeys = name == "cosine" ? ["min"] : name == "step" ? ["every", "gamma"] : []
        let k = try input.keywords("lr_schedule \(name)", allowed: shapeKeys + ["warmup", "warmup_start"])
        var schedule = LRSchedule()
        if let t = k.optional("warmup") { schedule.warmupSteps = try t.integer("lr_schedule warmup", atLeast: 0) }
        if let t = k.optional("warmup_start") {
            // LinearLR refuses a start factor outside (0, 1].
            let start = try t.float("lr_schedule warmup_start", in: .above(0))
            guard start <= 1 else {
                throw SpecProblem(t.location, "lr_schedule warmup_start must be in (0, 1] (LinearLR's start_factor),"
                                  + " got \(t.text)")
            }
            schedule.warmupStartFactor = start
        }
        switch name {
        case "cosine":
            let minimum = try k.optional("min").map { try $0.float("lr_schedule cosine min", in: .fraction) } ?? 0
            schedule.shape = .cosine(minimumFactor: minimum)
        case "step":
            let every = try k.required("every")
            let gamma = try k.optional("gamma").map { try $0.float("lr_schedule step gamma", in: .above(0)) } ?? 0.1
            schedule.shape = .step(every: try every.integer("lr_schedule step every", atLeast: 1), gamma: gamma)
        default:
            schedule.shape = .constant
        }
        let parsed = schedule
        return { $0.lrSchedule = parsed }
    }

    static func renderLRSchedule(_ config: ExperimentConfig) -> String {
        let s = config.lrSchedule
        let f = SpecNumber.format
        let shape: String
        switch s.shape {
        case .constant: shape = "constant"
        case let .cosine(m): shape = "cosine min=\(f(m))"
        case let .step(every, gamma): shape = "step every=\(every) gamma=\(f(gamma))"
        }
        return shape + " warmup=\(s.warmupSteps) warmup_start=\(f(s.warmupStartFactor))"
    }

    /// A learning rate > 0 that replaces the optimizer's.
    static func learningRate(_ input: inout SettingInput) throws -> SettingAssignment {
        let value = try input.single().float("lr", in: .above(0))
        return { $0.optimizer.learningRate = value }
    }

    static func renderLearningRate(_ config: ExperimentConfig) -> String {
        SpecNumber.format(config.optimizer.learningRate)
    }

    /// A number in (0, 1), kept as the Double of its Float32's shortest decimal (`0.9999`), as Python
    /// holds the literal `decay=0.9999` that timm and torch.optim.swa_utils compute `1 - decay` from.
    static func emaDecay(_ input: inout SettingInput) throws -> SettingAssignment {
        let value = try input.single().float("ema_decay", in: .openFraction)
        let decay = Double(SpecNumber.format(value))!
        return { $0.emaDecay = decay }
    }

    static func renderEMADecay(_ config: ExperimentConfig) -> String {
        SpecNumber.format(Float(config.emaDecay))
    }

    /// `off` or a number >= 0.
    static func adaptPrior(_ input: inout SettingInput) throws -> SettingAssignment {
        let token = try input.single()
        if token.text == "off" { return { $0.adaptPrior = nil } }
        guard SpecNumber.isDecimal(token.text) else {
            throw SpecProblem(token.location, "adapt_prior must be 'off' or a number >= 0, got \(quoted(token.text))")
        }
        let prior = try token.float("adapt_prior", in: .atLeast(0))
        return { $0.adaptPrior = prior }
    }

    static func renderAdaptPrior(_ config: ExperimentConfig) -> String {
        config.adaptPrior.map { SpecNumber.format($0) } ?? "off"
    }

    /// `all` or an integer >= 1.
    static func recalibrateSamples(_ input: inout SettingInput) throws -> SettingAssignment {
        let count = try input.single().integer("recalibrate_samples", atLeast: 1, orWord: "all")
        return { $0.recalibrateSamples = count.map { .count($0) } ?? .all }
    }

    /// `all` or an integer >= 1.
    static func forgotEvalBatches(_ input: inout SettingInput) throws -> SettingAssignment {
        let count = try input.single().integer("forgot_eval_batches", atLeast: 1, orWord: "all")
        return { $0.forgotEvalBatches = count }
    }

    static func renderForgotEvalBatches(_ config: ExperimentConfig) -> String {
        config.forgotEvalBatches.map(String.init) ?? "all"
    }

    static func renderRecalibrateSamples(_ config: ExperimentConfig) -> String {
        switch config.recalibrateSamples {
        case .all: return "all"
        case let .count(n): return String(n)
        }
    }
}
