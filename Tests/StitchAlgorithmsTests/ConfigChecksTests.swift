import Foundation
import Testing
@testable import StitchAlgorithms

/// Each registered algorithm's configuration: defaults in range, reference names pointing at real keys.
private struct ConfigurationAudit: AlgorithmVisitor {
  struct Finding { var id: String; var problems: [String]; var keys: Set<String>; var references: [String: String] }
  func visit<A: Algorithm>(_ type: A.Type) throws -> Finding {
    var checks = ConfigChecks()
    let checked = A.defaultConfiguration as? any CheckedConfiguration
    checked?.check(&checks)
    let keys = Set(try ConfigResolver.entries(of: A.defaultConfiguration).map(\.key))
    let references = (A.Configuration.self as? any CheckedConfiguration.Type)?.referenceNames ?? [:]
    return Finding(id: A.id, problems: checked == nil ? ["not a CheckedConfiguration"] : checks.problems, keys: keys, references: references)
  }
}

@Suite struct ConfigChecksTests {
  /// Every algorithm declares ranges, its paper defaults lie inside them, and every CORL name it maps leads to
  /// one of its keys (a typo in a table would otherwise send users to a key that does not exist).
  @Test func everyAlgorithmChecksItsValuesAndMapsReferenceNamesToRealKeys() throws {
    for type in AlgorithmRegistry.all {
      let finding = try withAlgorithm(type, ConfigurationAudit())
      #expect(finding.problems.isEmpty, "\(finding.id): \(finding.problems)")
      for (name, key) in finding.references {
        #expect(finding.keys.contains(key), "\(finding.id): reference name \(name) maps to unknown key \(key)")
        #expect(!finding.keys.contains(name), "\(finding.id): \(name) is already a key")
      }
    }
  }

  @Test func outOfRangeValuesAreAllNamedWithTheirRanges() {
    do {
      _ = try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["sampled_actions=0", "discount=1.5", "critic_hidden_sizes=256,0"])
      Issue.record("expected an error")
    } catch let error as ConfigResolver.ResolveError {
      guard case .outOfRange(let problems) = error else { Issue.record("wrong error \(error)"); return }
      #expect(problems.count == 3)
      #expect(problems.contains("sampled_actions = 0 must be at least 1"))
      #expect(problems.contains("discount = 1.5 must lie in [0, 1]"))
      #expect(problems.contains("critic_hidden_sizes = [256, 0] must list widths of at least 1"))
    } catch { Issue.record("wrong error \(error)") }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["expectile=1"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(EDAC.defaultConfiguration, overrides: ["critics=1"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["target_update_rate=0"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(SAC.defaultConfiguration, overrides: ["initial_temperature=0"]) }
    // Boundary values that are legitimate stay accepted.
    #expect(throws: Never.self) { try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["discount=1", "target_update_rate=1", "q_weight=0"]) }
  }

  @Test func referenceNamesNameTheKeyAndLoopSettingsNameTheOption() {
    #expect(throws: ConfigResolver.ResolveError.referenceName("cql_alpha", key: "conservative_weight")) {
      try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["cql_alpha=5"])
    }
    #expect(throws: ConfigResolver.ResolveError.referenceName("beta", key: "temperature")) {
      try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["beta=6"])
    }
    #expect(throws: ConfigResolver.ResolveError.referenceName("actor_bc_coef", key: "actor_penalty")) {
      try ConfigResolver.resolve(ReBRAC.defaultConfiguration, overrides: ["actor_bc_coef=0.01"])
    }
    // A name is only translated for the algorithm whose script uses it: CQL's `temperature` is the
    // log-sum-exp's, not IQL's β, so `beta` there is just unknown.
    do {
      _ = try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["beta=3"])
      Issue.record("expected an error")
    } catch let error as ConfigResolver.ResolveError {
      guard case .unknownKey = error else { Issue.record("wrong error \(error)"); return }
    } catch { Issue.record("wrong error \(error)") }
    do {
      _ = try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["batch_size=512"])
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("--batch-size"))
    }
  }
}
