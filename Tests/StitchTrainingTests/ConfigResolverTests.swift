import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

private struct ToyConfig: Codable, Equatable {
  var qWeight: Float = 2.5
  var discount: Double = 0.99
  var actorDelay = 2
  var hiddenSizes = [256, 256]
  var normalizeStates = true
  var name = "toy"
}

@Suite struct ConfigResolverTests {
  @Test func defaultsSurviveWithoutOverrides() throws {
    #expect(try ConfigResolver.resolve(ToyConfig()) == ToyConfig())
  }

  @Test func overridesAreTypedBySnakeCaseKey() throws {
    let c = try ConfigResolver.resolve(ToyConfig(), overrides: [
      "q_weight=1.5", "actor_delay = 3", "hidden_sizes=[64,32,16]", "normalize_states=false", "name=x",
    ])
    #expect(c.qWeight == 1.5)
    #expect(c.actorDelay == 3)
    #expect(c.hiddenSizes == [64, 32, 16])
    #expect(c.normalizeStates == false)
    #expect(c.name == "x")
    #expect(c.discount == 0.99)
  }

  @Test func unknownKeySuggestsClosest() {
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(ToyConfig(), overrides: ["q_wieght=1"]) }
    do {
      _ = try ConfigResolver.resolve(ToyConfig(), overrides: ["discont=0.9"])
      Issue.record("expected an error")
    } catch let error as ConfigResolver.ResolveError {
      #expect(error.description.contains("'discont'"))
      #expect(error.description.contains("Did you mean 'discount'"))
    } catch { Issue.record("wrong error \(error)") }
  }

  @Test func badValuesNameKeyAndExpectedKind() {
    do {
      _ = try ConfigResolver.resolve(ToyConfig(), overrides: ["discount=fast"])
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("discount"))
      #expect("\(error)".contains("a number"))
    }
    #expect(throws: ConfigResolver.ResolveError.malformedOverride("discount")) {
      try ConfigResolver.resolve(ToyConfig(), overrides: ["discount"])
    }
  }

  @Test func filesThenOverrides() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let toml = dir.appendingPathComponent("cfg-\(UUID().uuidString).toml")
    try "# comment\nq_weight = 4.0  # trailing\nhidden_sizes = [128, 128]\nname = \"from # toml\"\n".write(to: toml, atomically: true, encoding: .utf8)
    let c = try ConfigResolver.resolve(ToyConfig(), file: toml, overrides: ["q_weight=5"])
    #expect(c.qWeight == 5)
    #expect(c.hiddenSizes == [128, 128])
    #expect(c.name == "from # toml")
    let json = dir.appendingPathComponent("cfg-\(UUID().uuidString).json")
    try #"{"actor_delay": 7, "normalize_states": false}"#.write(to: json, atomically: true, encoding: .utf8)
    let d = try ConfigResolver.resolve(ToyConfig(), file: json)
    #expect(d.actorDelay == 7 && d.normalizeStates == false)
    let table = dir.appendingPathComponent("cfg-\(UUID().uuidString).toml")
    try "[section]\na = 1\n".write(to: table, atomically: true, encoding: .utf8)
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(ToyConfig(), file: table) }
  }

  @Test func resolvedJSONRoundTrips() throws {
    let c = try ConfigResolver.resolve(ToyConfig(), overrides: ["q_weight=0.25"])
    let text = try ConfigResolver.json(c)
    #expect(text.contains("\"q_weight\""))
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: file) }
    try text.write(to: file, atomically: true, encoding: .utf8)
    #expect(try ConfigResolver.resolve(ToyConfig(), file: file) == c)
  }

  @Test func editDistanceClosedForm() {
    #expect(ConfigResolver.editDistance("kitten", "sitting") == 3)
    #expect(ConfigResolver.editDistance("", "abc") == 3)
    #expect(ConfigResolver.closest(to: "zzzzzzzz", in: ["discount", "q_weight"]) == nil)
  }
}
