import Foundation
import Testing

@testable import StitchTraining

/// Sweep files: the cells a grid makes, and random search by ranges.
@Suite struct SweepSpecTests {
  static let base = """
    algorithms = ["iql", "bc"]
    seeds = [0, 1]
    steps = 10
    [dataset.hopper-medium]
    file = "d.hdf5"
    env = "Hopper-v4"
    """

  @Test func gridAxesApplyToTheirAlgorithmAndMultiply() throws {
    let spec = try SweepSpec.parse(Self.base + "\n[grid]\n\"iql.expectile\" = [0.7, 0.9]\n\"iql.beta\" = [3]\n")
    #expect(spec.cells.map { "\($0.run)/\($0.seed)" } == [
      "hopper-medium/iql,expectile=0.7,beta=3/0", "hopper-medium/iql,expectile=0.7,beta=3/1",
      "hopper-medium/iql,expectile=0.9,beta=3/0", "hopper-medium/iql,expectile=0.9,beta=3/1",
      "hopper-medium/bc/0", "hopper-medium/bc/1"])
  }

  /// uniform(LO, HI, COUNT) and log-uniform draw COUNT values inside the range, the same for the same file and
  /// search seed, others for another seed; bad ranges are refused with the key named.
  @Test func rangesDrawReproducibleValues() throws {
    let text = Self.base + "\n[grid]\n\"iql.expectile\" = \"uniform(0.5, 0.95, 4)\"\n\"iql.actor_learning_rate\" = \"log-uniform(1e-5, 1e-3, 3)\"\n"
    let a = try SweepSpec.parse(text), b = try SweepSpec.parse(text)
    #expect(a.grid.map(\.values) == b.grid.map(\.values))
    let expectiles = a.grid[0].values.compactMap(Double.init)
    #expect(expectiles.count == 4 && expectiles.allSatisfy { $0 >= 0.5 && $0 < 0.95 } && Set(expectiles).count == 4)
    let rates = a.grid[1].values.compactMap(Double.init)
    #expect(rates.count == 3 && rates.allSatisfy { $0 >= 1e-5 && $0 < 1e-3 })
    #expect(a.cells.count == (4 * 3 + 1) * 2)
    let other = try SweepSpec.parse("search_seed = 7\n" + text)
    #expect(other.grid[0].values != a.grid[0].values)
    #expect { _ = try SweepSpec.parse(Self.base + "\n[grid]\n\"iql.beta\" = \"uniform(3, 1, 2)\"\n") } throws: { "\($0)".contains("iql.beta") && "\($0)".contains("LO < HI") }
    #expect { _ = try SweepSpec.parse(Self.base + "\n[grid]\n\"iql.beta\" = \"normal(0, 1)\"\n") } throws: { "\($0)".contains("neither a list nor") }
  }

  /// Every problem of the file's form at once, with line numbers where a line is at fault.
  @Test func formProblemsComeTogether() throws {
    #expect { _ = try SweepSpec.parse("seeds = [0, 0]\ncolour = 1\n[dataset.x]\nfile = \"f\"\n[other]\na = 1\n") } throws: { error in
      let t = "\(error)"
      return ["algorithms = [", "seeds lists a seed twice", "steps = N", "unknown key colour", "[dataset.x] needs file", "unknown section [other]"].allSatisfy(t.contains)
    }
    #expect { _ = try SweepSpec.parse(Self.base + "\n[grid]\nbroken\n") } throws: { "\($0)".contains("line 8") }
  }
}
