import ArgumentParser
import Foundation

import Stitch

/// `stitch bench dynamics`: the model-based agents' costs: dynamics-ensemble training, model rollouts, and
/// true-dynamics rollouts.
struct BenchDynamics: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dynamics",
    abstract: "Dynamics-ensemble training updates/s, model-rollout and true-dynamics transitions/s.",
    discussion: """
      Rows (Hopper's widths by default, obs 11, action 3; OfflineRL-Kit's EnsembleDynamics shapes):
        dynamics update: one minibatch of --members × --batch rows (forward, loss with the soft log-variance
          bounds and weight decay, backward, Adam) on random standardised data: updates/s;
        model rollout: one chunk of 8192 rows through DynamicsEnsemble.step (all members' forward, the Gaussian
          draws, a random elite per row), as ModelRollouts runs it without the policy: transitions/s, and the
          seconds of one rollout epoch of 50,000 starts × 5 steps at that rate;
        true dynamics: SimulatorDynamics.step on 8192 Hopper-v4 states (set state, frame_skip × mj_step,
          reward, termination) over --threads workers: transitions/s, beside bare frame_skip × mj_step on one
          core from `bench env`'s loop (physics_steps_per_second).
      benchmarks/dynamics-vs-torch runs this beside PyTorch running OfflineRL-Kit's own EnsembleDynamicsModel.
      Example:
        stitch bench dynamics --json --threads 1
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Ensemble members.") var members = 7
  @Option(help: "Hidden units per layer (4 layers).") var hidden = 200
  @Option(help: "Rows per member per minibatch.") var batch = 256
  @Option(help: "Observation width.") var observationDim = 11
  @Option(help: "Action width.") var actionDim = 3

  func run() throws {
    try options.applyThreads()
    var results: [BenchResult] = []
    var rng = RandomStream(seed: 0)
    var model = DynamicsEnsemble(members: members, observationDim: observationDim, actionDim: actionDim,
                                 hiddenSizes: [hidden, hidden, hidden, hidden], rng: &rng)
    model.elites = Array(0..<Swift.min(5, members))
    let iw = observationDim + actionDim, tw = observationDim + 1
    let x = Tensor.normal([members, batch, iw], using: &rng), y = Tensor.normal([members, batch, tw], using: &rng)
    var adam = Adam(learningRate: 1e-3)
    let update = try options.harness.rate {
      let (_, grad) = try valueWithGradient(at: model) { m in m.loss(scaledInputs: x, targets: y) }
      adam.update(&model, along: grad)
    }
    results.append(BenchResult(name: "dynamics update \(members)x\(batch), 4x\(hidden)", stepsPerSecond: update.median, gflops: nil,
                               sgemmFraction: nil, threads: options.threads, extra: []))

    let chunk = 8192
    let obs = Tensor.normal([chunk, observationDim], using: &rng), act = Tensor.uniform([chunk, actionDim], in: -1...1, using: &rng)
    let frozen = model
    let rollout = try options.harness.rate {
      let noise = Tensor.normal([members, chunk, tw], using: &rng)
      let rows = (0..<chunk).map { _ in frozen.elites[rng.nextInt(below: frozen.elites.count)] }
      _ = withoutGradients { frozen.step(observations: obs, actions: act, noise: noise, memberOfRow: rows) }
    }
    let transitions = rollout.median * Double(chunk)
    results.append(BenchResult(name: "model rollout \(chunk) rows", stepsPerSecond: transitions, gflops: nil, sgemmFraction: nil,
                               threads: options.threads, extra: [("rollout_epoch_seconds_50000x5", 250_000 / transitions)]))

    let simulator = try SimulatorDynamics(environment: "Hopper-v4", workers: options.threads)
    let ds = try DatasetMaker.make("hopper-random", size: chunk, seed: 0)
    let (states, _, _) = try simulator.startStates(of: ds)
    let trueRate = try options.harness.rate { _ = try simulator.step(states: states, actions: ds.actions, rows: chunk) }
    let sim = try MuJoCoSimulation(modelPath: try (EnvironmentRegistry.make("Hopper-v4") as? any MuJoCoTask).map { $0.simulation.modelPath }
                                   ?? { throw ValidationError("Hopper-v4 is not a MuJoCo task") }())
    let controls = (0..<4096).map { i in (0..<3).map { Double(ds.actions[(i % chunk) * 3 + $0]) } }
    try sim.setState(qpos: sim.initialQpos, qvel: [Double](repeating: 0, count: sim.nv))
    var k = 0
    let physics = try options.harness.rate {
      sim.step(control: controls[k & 4095], frames: 4)
      k += 1
      if k % 1000 == 0 { try sim.setState(qpos: sim.initialQpos, qvel: [Double](repeating: 0, count: sim.nv)) }
    }
    results.append(BenchResult(name: "true dynamics Hopper-v4 \(chunk) rows", stepsPerSecond: trueRate.median * Double(chunk), gflops: nil,
                               sgemmFraction: nil, threads: options.threads,
                               extra: [("physics_steps_per_second", physics.median),
                                       ("rollout_epoch_seconds_50000x5", 250_000 / (trueRate.median * Double(chunk)))]))
    BenchReport.print(results, json: options.json)
  }
}
