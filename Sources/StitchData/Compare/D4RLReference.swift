/// Published statistics of D4RL's v2 Gym-MuJoCo datasets (Fu et al. 2020), the anchors `stitch dataset compare`
/// measures Stitch's own files against: the real files cannot be downloaded on the machines Stitch is built on.
///
/// Sources (docs/d4rl-stats.md gives each with its commit and how far to trust it):
/// - observation mean and population std per dimension, over the observations of complete episodes:
///   `D4RL_DATASET_STATS` in nikhilbarhate99/min-decision-transformer `decision_transformer/d4rl_infos.py`
///   @36b9f9bc ("calculated from d4rl datasets"; the same constants appear in DI-engine and many DT forks);
/// - episode-return mean, population std, min and max over complete episodes, and the samples in complete
///   episodes: the printed output of kzl/decision-transformer `gym/data/download_d4rl_datasets.py` (a third-party
///   run log, UNVERIFIED; it agrees with TFDS's episode counts);
/// - episodes: the TFDS catalog (`d4rl_mujoco_hopper` etc.), one example per episode including a trailing partial
///   one, so complete episodes are one fewer for the medium files;
/// - expert-v2 returns: the same run log (medium-expert's second half).
/// Values are as published; nothing here was computed by Stitch.
public struct D4RLReference: Sendable, Equatable {
  /// "hopper-medium-v2".
  public var name: String
  /// The task family for the normalized score ("hopper").
  public var family: String
  public var observationDim: Int
  /// Transitions in complete episodes, when published.
  public var transitions: Int?
  /// Complete episodes, when published.
  public var episodes: Int?
  public var returnMean: Double?
  public var returnStd: Double?
  public var returnMin: Double?
  public var returnMax: Double?
  public var observationMean: [Double]?
  public var observationStd: [Double]?
  /// Where the figures come from, in one line.
  public var source: String

  /// Mean episode length: transitions in complete episodes over complete episodes.
  public var meanEpisodeLength: Double? {
    guard let t = transitions, let e = episodes, e > 0 else { return nil }
    return Double(t) / Double(e)
  }

  /// Errors naming a reference.
  public enum LookupError: Error, CustomStringConvertible {
    case unknown(String, known: [String])
    public var description: String {
      switch self {
      case .unknown(let name, let known):
        return "unknown reference '\(name)'; known: \(known.map { "d4rl:" + $0 }.joined(separator: ", "))"
      }
    }
  }

  /// The reference named "d4rl:hopper-medium-v2" (the "d4rl:" prefix may be left out; case is ignored).
  public static func named(_ text: String) throws -> D4RLReference {
    var key = text.lowercased()
    if key.hasPrefix("d4rl:") { key.removeFirst(5) }
    guard let r = all.first(where: { $0.name == key }) else { throw LookupError.unknown(text, known: all.map(\.name)) }
    return r
  }

  /// The names of all references, without the "d4rl:" prefix.
  public static var names: [String] { all.map(\.name) }

  static let statsSource = "obs: min-decision-transformer d4rl_infos.py @36b9f9bc; returns: kzl/decision-transformer download log (UNVERIFIED); episodes: TFDS"

  /// The nine locomotion datasets with observation statistics, and the three expert datasets with return statistics.
  public static let all: [D4RLReference] = [
    D4RLReference(
      name: "hopper-medium-v2", family: "hopper", observationDim: 11, transitions: 999_906, episodes: 2_186,
      returnMean: 1422.06, returnStd: 378.95, returnMin: 315.87, returnMax: 3222.36,
      observationMean: [1.311279058456421, -0.08469521254301071, -0.5382719039916992, -0.07201576232910156, 0.04932365566492081,
                        2.1066856384277344, -0.15017354488372803, 0.008783451281487942, -0.2848185896873474, -0.18540096282958984,
                        -0.28461286425590515],
      observationStd: [0.17790751159191132, 0.05444620922207832, 0.21297138929367065, 0.14530418813228607, 0.6124444007873535,
                       0.8517446517944336, 1.4515252113342285, 0.6751695871353149, 1.5362390279769897, 1.616074562072754,
                       5.607253551483154],
      source: statsSource),
    D4RLReference(
      name: "hopper-medium-replay-v2", family: "hopper", observationDim: 11, transitions: 402_000, episodes: 2_041,
      returnMean: 467.30, returnStd: 511.03, returnMin: -1.44, returnMax: 3192.93,
      observationMean: [1.2305138111114502, -0.04371410980820656, -0.44542956352233887, -0.09370097517967224, 0.09094487875699997,
                        1.3694725036621094, -0.19992674887180328, -0.022861352190375328, -0.5287045240402222, -0.14465883374214172,
                        -0.19652697443962097],
      observationStd: [0.1756512075662613, 0.0636928603053093, 0.3438323438167572, 0.19566889107227325, 0.5547984838485718,
                       1.051029920578003, 1.158307671546936, 0.7963128685951233, 1.4802359342575073, 1.6540331840515137,
                       5.108601093292236],
      source: statsSource),
    D4RLReference(
      name: "hopper-medium-expert-v2", family: "hopper", observationDim: 11, transitions: nil, episodes: nil,
      returnMean: nil, returnStd: nil, returnMin: nil, returnMax: nil,
      observationMean: [1.3293815851211548, -0.09836531430482864, -0.5444297790527344, -0.10201650857925415, 0.02277466468513012,
                        2.3577215671539307, -0.06349576264619827, -0.00374026270583272, -0.1766270101070404, -0.11862941086292267,
                        -0.12097819894552231],
      observationStd: [0.17012375593185425, 0.05159067362546921, 0.18141433596611023, 0.16430604457855225, 0.6023368239402771,
                       0.7737284898757935, 1.4986555576324463, 0.7483318448066711, 1.7953159809112549, 2.0530025959014893,
                       5.725032806396484],
      source: statsSource),
    D4RLReference(
      name: "hopper-expert-v2", family: "hopper", observationDim: 11, transitions: nil, episodes: nil,
      returnMean: 3511.36, returnStd: 328.59, returnMin: 1645.3, returnMax: 3759.1, observationMean: nil, observationStd: nil,
      source: "returns: kzl/decision-transformer download log (UNVERIFIED)"),
    D4RLReference(
      name: "walker2d-medium-v2", family: "walker2d", observationDim: 17, transitions: 999_995, episodes: 1_190,
      returnMean: 2852.09, returnStd: 1095.44, returnMin: -6.61, returnMax: 4226.94,
      observationMean: [1.218966007232666, 0.14163373410701752, -0.03704913705587387, -0.13814310729503632, 0.5138224363327026,
                        -0.04719110205769539, -0.47288352251052856, 0.042254164814949036, 2.3948874473571777, -0.03143199160695076,
                        0.04466355964541435, -0.023907244205474854, -0.1013401448726654, 0.09090937674045563, -0.004192637279629707,
                        -0.12120571732521057, -0.5497063994407654],
      observationStd: [0.12311358004808426, 0.3241879940032959, 0.11456084251403809, 0.2623065710067749, 0.5640279054641724,
                       0.2271878570318222, 0.3837319612503052, 0.7373676896095276, 1.2387926578521729, 0.798020601272583,
                       1.5664079189300537, 1.8092705011367798, 3.025604248046875, 4.062486171722412, 1.4586567878723145,
                       3.7445690631866455, 5.5851287841796875],
      source: statsSource),
    D4RLReference(
      name: "walker2d-medium-replay-v2", family: "walker2d", observationDim: 17, transitions: 302_000, episodes: 1_093,
      returnMean: 682.70, returnStd: 895.96, returnMin: -50.20, returnMax: 4132.00,
      observationMean: [1.209364652633667, 0.13264022767543793, -0.14371201395988464, -0.2046516090631485, 0.5577612519264221,
                        -0.03231537342071533, -0.2784661054611206, 0.19130706787109375, 1.4701707363128662, -0.12504704296588898,
                        0.0564953051507473, -0.09991033375263214, -0.340340256690979, 0.03546293452382088, -0.08934258669614792,
                        -0.2992438077926636, -0.5984178185462952],
      observationStd: [0.11929835379123688, 0.3562574088573456, 0.25852200388908386, 0.42075422406196594, 0.5202291011810303,
                       0.15685082972049713, 0.36770978569984436, 0.7161387801170349, 1.3763766288757324, 0.8632221817970276,
                       2.6364643573760986, 3.0134117603302, 3.720684051513672, 4.867283821105957, 2.6681625843048096,
                       3.845186948776245, 5.4768385887146],
      source: statsSource),
    D4RLReference(
      name: "walker2d-medium-expert-v2", family: "walker2d", observationDim: 17, transitions: nil, episodes: nil,
      returnMean: nil, returnStd: nil, returnMin: nil, returnMax: nil,
      observationMean: [1.2294334173202515, 0.16869689524173737, -0.07089081406593323, -0.16197483241558075, 0.37101927399635315,
                        -0.012209027074277401, -0.42461398243904114, 0.18986578285694122, 3.162475109100342, -0.018092676997184753,
                        0.03496946766972542, -0.013921679928898811, -0.05937029421329498, -0.19549426436424255,
                        -0.0019200450042262673, -0.062483321875333786, -0.27366524934768677],
      observationStd: [0.09932824969291687, 0.25981399416923523, 0.15062759816646576, 0.24249176681041718, 0.6758718490600586,
                       0.1650741547346115, 0.38140663504600525, 0.6962361335754395, 1.3501490354537964, 0.7641991376876831,
                       1.534574270248413, 2.1785972118377686, 3.276582717895508, 4.766193866729736, 1.1716983318328857,
                       4.039782524108887, 5.891613960266113],
      source: statsSource),
    D4RLReference(
      name: "walker2d-expert-v2", family: "walker2d", observationDim: 17, transitions: nil, episodes: nil,
      returnMean: 4920.51, returnStd: 136.39, returnMin: nil, returnMax: nil, observationMean: nil, observationStd: nil,
      source: "returns: kzl/decision-transformer download log (UNVERIFIED)"),
    D4RLReference(
      name: "halfcheetah-medium-v2", family: "halfcheetah", observationDim: 17, transitions: 1_000_000, episodes: 1_000,
      returnMean: 4770.33, returnStd: 355.75, returnMin: -310.23, returnMax: 5309.38,
      observationMean: [-0.06845773756504059, 0.016414547339081764, -0.18354906141757965, -0.2762460708618164, -0.34061527252197266,
                        -0.09339715540409088, -0.21321271359920502, -0.0877423882484436, 5.173007488250732, -0.04275195300579071,
                        -0.036108363419771194, 0.14053793251514435, 0.060498327016830444, 0.09550975263118744, 0.06739100068807602,
                        0.005627387668937445, 0.013382787816226482],
      observationStd: [0.07472999393939972, 0.3023499846458435, 0.30207309126853943, 0.34417077898979187, 0.17619241774082184,
                       0.507205605506897, 0.2567007839679718, 0.3294812738895416, 1.2574149370193481, 0.7600541710853577,
                       1.9800915718078613, 6.565362453460693, 7.466367721557617, 4.472222805023193, 10.566964149475098,
                       5.671932697296143, 7.4982590675354],
      source: statsSource),
    D4RLReference(
      name: "halfcheetah-medium-replay-v2", family: "halfcheetah", observationDim: 17, transitions: 202_000, episodes: 202,
      returnMean: 3093.29, returnStd: 1680.69, returnMin: -638.49, returnMax: 4985.14,
      observationMean: [-0.12880703806877136, 0.3738119602203369, -0.14995987713336945, -0.23479078710079193, -0.2841278612613678,
                        -0.13096535205841064, -0.20157982409000397, -0.06517726927995682, 3.4768247604370117, -0.02785065770149231,
                        -0.015035249292850494, 0.07697279006242752, 0.01266712136566639, 0.027325302362442017, 0.02316424623131752,
                        0.010438721626996994, -0.015839405357837677],
      observationStd: [0.17019015550613403, 1.284424901008606, 0.33442774415016174, 0.3672759234905243, 0.26092398166656494,
                       0.4784106910228729, 0.3181420564651489, 0.33552637696266174, 2.0931615829467773, 0.8037433624267578,
                       1.9044333696365356, 6.573209762573242, 7.572863578796387, 5.069749355316162, 9.10555362701416,
                       6.085654258728027, 7.25300407409668],
      source: statsSource),
    D4RLReference(
      name: "halfcheetah-medium-expert-v2", family: "halfcheetah", observationDim: 17, transitions: 2_000_000, episodes: 2_000,
      returnMean: nil, returnStd: nil, returnMin: nil, returnMax: nil,
      observationMean: [-0.05667462572455406, 0.024369969964027405, -0.061670560389757156, -0.22351515293121338, -0.2675151228904724,
                        -0.07545716315507889, -0.05809682980179787, -0.027675075456500053, 8.110626220703125, -0.06136331334710121,
                        -0.17986927926540375, 0.25175222754478455, 0.24186332523822784, 0.2519369423389435, 0.5879552960395813,
                        -0.24090635776519775, -0.030184272676706314],
      observationStd: [0.06103534251451492, 0.36054104566574097, 0.45544400811195374, 0.38476887345314026, 0.2218363732099533,
                       0.5667523741722107, 0.3196682929992676, 0.2852923572063446, 3.443821907043457, 0.6728139519691467,
                       1.8616976737976074, 9.575807571411133, 10.029894828796387, 5.903450012207031, 12.128185272216797,
                       6.4811787605285645, 6.378620147705078],
      source: statsSource),
    D4RLReference(
      name: "halfcheetah-expert-v2", family: "halfcheetah", observationDim: 17, transitions: nil, episodes: nil,
      returnMean: 10656.43, returnStd: 441.68, returnMin: nil, returnMax: nil, observationMean: nil, observationStd: nil,
      source: "returns: kzl/decision-transformer download log (UNVERIFIED)"),
  ]
}
