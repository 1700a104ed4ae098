import Foundation
import StitchTensor

/// A sweep file (`stitch sweep SPEC.toml`): algorithms × datasets × `[grid]` settings × seeds, each cell one
/// ordinary run folder `OUT/DATASET/ALGO[,key=value…]/seed_K`.
///
/// ```toml
/// algorithms = ["bc", "td3bc", "iql"]
/// seeds = [0, 1, 2]
/// steps = 100000
/// eval_every = 5000        # optional (5000); eval_episodes (10) likewise
/// checkpoint_every = 10000 # optional (stitch train's default, 50000): how far a stopped cell resumes from
/// preset = true            # optional: CORL's per-dataset settings (--preset DATASET) for every cell
///
/// [dataset.hopper-medium]
/// file = "data/hopper-medium.hdf5"
/// env = "Hopper-v4"
///
/// [grid]
/// "iql.expectile" = [0.7, 0.9]   # ALGO.key: that algorithm's cells only; a bare key applies to every algorithm
/// "iql.beta" = "uniform(1, 10, 4)"   # random search (also log-uniform), from `search_seed`
/// ```
/// An optional `[slurm]` section holds `--executor slurm`'s settings (the command's flags override each):
/// ```toml
/// [slurm]
/// partition = "cpu"
/// account = "rl-lab"
/// time = "04:00:00"          # per cell
/// throttle = 8               # at most 8 array tasks at once (%8)
/// cpus_per_task = 2          # each cell trains with 2 lanes on 2 cores
/// sbatch = ["--mem=8G", "--qos=normal"]   # extra #SBATCH lines
/// ```
/// The file is flat TOML (`FlatTOML`) in `[dataset.NAME]`, `[grid]` and `[slurm]` sections; anything else is an
/// error naming its line.
public struct SweepSpec: Sendable, Equatable {
  public struct DatasetEntry: Sendable, Equatable {
    public var name, file, environment: String
  }

  /// One run: a dataset, an algorithm, its `--set` overrides from the grid, and a seed.
  public struct Cell: Sendable, Equatable {
    public var dataset: DatasetEntry
    public var algorithm: String
    public var settings: [String]
    public var seed: UInt64
    /// `DATASET/ALGO[,key=value…]`, the run folder's path below the sweep's folder (without `seed_K`).
    public var run: String {
      dataset.name + "/" + ([algorithm] + settings).joined(separator: ",")
    }
  }

  /// The `[slurm]` section.
  public struct SlurmSection: Sendable, Equatable {
    public var partition, account, time: String?
    public var throttle: Int?
    public var cpusPerTask = 1
    public var sbatchLines: [String] = []
  }

  public var algorithms: [String]
  public var seeds: [UInt64]
  public var slurm = SlurmSection()
  public var steps: Int
  public var evaluationInterval = 5000
  public var evaluationEpisodes = 10
  /// `checkpoint_every`: passed to every cell's `stitch train` when set.
  public var checkpointInterval: Int?
  public var preset = false
  public var datasets: [DatasetEntry]
  /// Grid axes in file order: (algorithm or nil for all, key, values as `--set` text).
  public var grid: [(algorithm: String?, key: String, values: [String])]

  public static func == (a: SweepSpec, b: SweepSpec) -> Bool { a.cells == b.cells }

  /// Parses a sweep file; every problem of its form is reported at once.
  public static func parse(_ text: String) throws -> SweepSpec {
    var sections: [(name: String, firstLine: Int, text: String)] = [("", 1, "")]
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = FlatTOML.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("["), line.hasSuffix("]") {
        sections.append((String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces), i + 2, ""))
      } else {
        sections[sections.count - 1].text += String(raw) + "\n"
      }
    }
    var problems: [String] = []
    var top: [String: ConfigValue] = [:], datasets: [DatasetEntry] = [], grid: [(String?, String, [String])] = []
    var slurm = SlurmSection()
    for s in sections {
      let pairs: [(String, ConfigValue)]
      do { pairs = try FlatTOML.parse(s.text) } catch let e as FlatTOML.ParseError {
        problems.append("line \(e.line + s.firstLine - 1): \(e.message)"); continue
      }
      if s.name.isEmpty {
        for (k, v) in pairs { top[k] = v }
      } else if s.name.hasPrefix("dataset.") {
        let name = String(s.name.dropFirst("dataset.".count))
        let d = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        guard case .string(let file)? = d["file"], case .string(let env)? = d["env"] else {
          problems.append("[\(s.name)] needs file = \"PATH\" and env = \"ENV-ID\""); continue
        }
        for k in d.keys where !["file", "env"].contains(k) { problems.append("[\(s.name)]: unknown key \(k) (known: file, env)") }
        if datasets.contains(where: { $0.name == name }) { problems.append("[\(s.name)] appears twice") }
        datasets.append(DatasetEntry(name: name, file: file, environment: env))
      } else if s.name == "grid" {
        for (k, v) in pairs {
          let parts = k.split(separator: ".", maxSplits: 1).map(String.init)
          let values: [String]
          if case .string(let range) = v {
            // Random search: "uniform(LO, HI, COUNT)" or "log-uniform(LO, HI, COUNT)", drawn from the key's own
            // stream of the sweep's search seed, so the same file gives the same values.
            do { values = try Self.sample(range, key: k, seed: searchSeed(top)) } catch { problems.append("[grid] \(k): \(error)"); continue }
          } else if case .array(let list) = v, !list.isEmpty {
            values = list.map(Self.setText)
          } else {
            problems.append("[grid] \(k) must be a non-empty array of values, or \"uniform(LO, HI, COUNT)\" / \"log-uniform(LO, HI, COUNT)\""); continue
          }
          grid.append((parts.count == 2 ? parts[0] : nil, parts.count == 2 ? parts[1] : k, values))
        }
      } else if s.name == "slurm" {
        for (k, v) in pairs {
          switch (k, v) {
          case ("partition", .string(let x)): slurm.partition = x
          case ("account", .string(let x)): slurm.account = x
          case ("time", .string(let x)): slurm.time = x
          case ("throttle", .number(let x)) where x >= 1 && x == x.rounded(): slurm.throttle = Int(x)
          case ("cpus_per_task", .number(let x)) where x >= 1 && x == x.rounded(): slurm.cpusPerTask = Int(x)
          case ("sbatch", .array(let a)):
            for e in a { if case .string(let line) = e { slurm.sbatchLines.append(line) } else { problems.append("[slurm] sbatch lists strings, got \(e)") } }
          case ("partition", _), ("account", _), ("time", _): problems.append("[slurm] \(k) must be a string")
          case ("throttle", _), ("cpus_per_task", _): problems.append("[slurm] \(k) must be a positive integer")
          case ("sbatch", _): problems.append("[slurm] sbatch must be an array of strings, e.g. [\"--mem=4G\"]")
          default: problems.append("[slurm]: unknown key \(k) (known: partition, account, time, throttle, cpus_per_task, sbatch)")
          }
        }
      } else {
        problems.append("unknown section [\(s.name)] (known: [dataset.NAME], [grid], [slurm])")
      }
    }
    func strings(_ key: String) -> [String]? {
      guard case .array(let a)? = top[key] else { return nil }
      return a.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
    func integer(_ key: String) -> Int? { if case .number(let x)? = top[key], x == x.rounded(), x > 0 { return Int(x) } else { return nil } }
    let algorithms = strings("algorithms") ?? []
    if algorithms.isEmpty { problems.append("algorithms = [\"...\"] is required") }
    var seeds: [UInt64] = []
    if case .array(let a)? = top["seeds"] {
      for v in a { if case .number(let x) = v, x >= 0, x == x.rounded() { seeds.append(UInt64(x)) } else { problems.append("seeds must be non-negative integers, got \(v)") } }
    }
    if seeds.isEmpty { problems.append("seeds = [0, ...] is required") }
    if Set(seeds).count != seeds.count { problems.append("seeds lists a seed twice") }
    let steps = integer("steps")
    if steps == nil { problems.append("steps = N (a positive integer) is required") }
    if datasets.isEmpty { problems.append("at least one [dataset.NAME] section with file and env is required") }
    let known = ["algorithms", "seeds", "steps", "eval_every", "eval_episodes", "checkpoint_every", "preset", "search_seed"]
    for k in top.keys.sorted() where !known.contains(k) { problems.append("unknown key \(k) (known: \(known.joined(separator: ", ")))") }
    if top["eval_every"] != nil, integer("eval_every") == nil { problems.append("eval_every must be a positive integer") }
    if top["eval_episodes"] != nil, integer("eval_episodes") == nil { problems.append("eval_episodes must be a positive integer") }
    if top["checkpoint_every"] != nil, integer("checkpoint_every") == nil { problems.append("checkpoint_every must be a positive integer") }
    for (algorithm, key, _) in grid where algorithm != nil && !algorithms.contains(algorithm!) {
      problems.append("[grid] \(algorithm!).\(key): \(algorithm!) is not among the algorithms")
    }
    guard problems.isEmpty else { throw SweepError(problems) }
    var spec = SweepSpec(algorithms: algorithms, seeds: seeds, steps: steps!, datasets: datasets, grid: grid)
    spec.evaluationInterval = integer("eval_every") ?? 5000
    spec.evaluationEpisodes = integer("eval_episodes") ?? 10
    spec.checkpointInterval = integer("checkpoint_every")
    if case .bool(true)? = top["preset"] { spec.preset = true }
    spec.slurm = slurm
    return spec
  }

  init(algorithms: [String], seeds: [UInt64], steps: Int, datasets: [DatasetEntry], grid: [(algorithm: String?, key: String, values: [String])]) {
    self.algorithms = algorithms
    self.seeds = seeds
    self.steps = steps
    self.datasets = datasets
    self.grid = grid
  }

  /// The sweep's search seed (`search_seed`, default 0).
  static func searchSeed(_ top: [String: ConfigValue]) -> UInt64 {
    if case .number(let x)? = top["search_seed"], x >= 0, x == x.rounded() { return UInt64(x) }
    return 0
  }

  /// COUNT values of "uniform(LO, HI, COUNT)" or "log-uniform(LO, HI, COUNT)", each printed with 6 significant
  /// digits (the run folder's name carries it), from the stream `seed` split by the key's name.
  static func sample(_ text: String, key: String, seed: UInt64) throws -> [String] {
    let t = text.replacingOccurrences(of: " ", with: "")
    let log = t.hasPrefix("log-uniform(")
    guard log || t.hasPrefix("uniform("), t.hasSuffix(")") else {
      throw SweepError(["\"\(text)\" is neither a list nor uniform(LO, HI, COUNT) / log-uniform(LO, HI, COUNT)"])
    }
    let args = t.drop(while: { $0 != "(" }).dropFirst().dropLast().split(separator: ",").map { Double($0) }
    guard args.count == 3, let lo = args[0], let hi = args[1], let n = args[2], n >= 1, n == n.rounded(), lo < hi, !log || lo > 0 else {
      throw SweepError(["\"\(text)\" needs LO < HI (both > 0 for log-uniform) and a whole COUNT ≥ 1"])
    }
    var rng = RandomStream(seed: seed).child(named: "grid." + key)
    return (0..<Int(n)).map { _ in
      let u = Double(rng.nextFloat())
      let x = log ? Foundation.exp(Foundation.log(lo) + u * (Foundation.log(hi) - Foundation.log(lo))) : lo + u * (hi - lo)
      return String(format: "%.6g", x)
    }
  }

  static func setText(_ v: ConfigValue) -> String {
    switch v {
    case .string(let s), .text(let s): return s
    case .bool(let b): return b ? "true" : "false"
    case .number(let x): return x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    case .array(let a): return "[" + a.map(setText).joined(separator: ",") + "]"
    }
  }

  /// Every cell, in order: datasets, algorithms, grid points (the product of the axes that apply), seeds.
  public var cells: [Cell] {
    var out: [Cell] = []
    for d in datasets {
      for a in algorithms {
        var points: [[String]] = [[]]
        for axis in grid where axis.algorithm == nil || axis.algorithm == a {
          points = points.flatMap { p in axis.values.map { p + ["\(axis.key)=\($0)"] } }
        }
        for p in points { for s in seeds { out.append(Cell(dataset: d, algorithm: a, settings: p, seed: s)) } }
      }
    }
    return out
  }
}

/// Problems with a sweep, all of them.
public struct SweepError: Error, CustomStringConvertible {
  public let problems: [String]
  public init(_ problems: [String]) { self.problems = problems }
  public var description: String { "the sweep cannot run:\n" + problems.map { "  - " + $0 }.joined(separator: "\n") }
}
