import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// `CriticEnsemble.members(_:)` must compute exactly what the chosen members compute inside the full ensemble:
/// TD3+BC's actor gradient through Q₁ alone must equal the gradient through the twin critic with Q₂'s row
/// dropped (the computation it replaces), bit for bit on one lane.
@Suite struct CriticEnsembleTests {
  @Test func aMemberSubsetComputesWhatTheFullEnsembleDoes() throws {
    var rng = RandomStream(seed: 11)
    var critics = CriticEnsemble(members: 3, observationDim: 5, actionDim: 2, hiddenSizes: [64, 64], rng: &rng)
    let actor = MLP(inputSize: 5, hiddenSizes: [64, 64], outputSize: 2, outputActivation: .tanh, rng: &rng)
    let observations = Tensor.normal([37, 5], using: &rng)
    let actions = Tensor.normal([37, 2], using: &rng).clamped(min: -1, max: 1)

    let full = critics(observations, actions).scalars
    for (range, offset) in [(0..<1, 0), (1..<3, 37), (2..<3, 74)] {
      let part = critics.members(range)
      #expect(part.net.members == range.count)
      #expect(part(observations, actions).scalars == Array(full[offset..<(offset + 37 * range.count)]))
    }

    let (lossFull, gradFull) = try valueWithGradient(at: actor) { actor in
      critics(observations, actor(observations)).slice(rows: 0..<1).mean()
    }
    let first = critics.members(0..<1)
    let (lossFirst, gradFirst) = try valueWithGradient(at: actor) { actor in first(observations, actor(observations)).mean() }
    #expect(lossFirst == lossFull)
    var a = gradFull, b = gradFirst
    var fullScalars: [[Float]] = [], firstScalars: [[Float]] = []
    a.visitParameters("") { _, t in fullScalars.append(t.scalars) }
    b.visitParameters("") { _, t in firstScalars.append(t.scalars) }
    #expect(fullScalars.count == 6 && fullScalars == firstScalars)
    // The subset is a copy: changing the ensemble's weights afterwards leaves it unchanged.
    critics.visitParameters("") { _, p in p = p + 0.5 }
    #expect(critics(observations, actions).scalars != full)
    #expect(first(observations, actions).scalars == Array(full[0..<37]))
  }
}
