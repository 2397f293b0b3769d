// flagmask-eval: runs the core on DAVIS-layout sequences, seeded with each sequence's first mask,
// and scores it with the DAVIS measures. The fps it prints times the core alone (not decoding).
#include "cli.h"
#include "eval/metrics.h"
#include "flagmask.h"
#include "selection.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The usage, with the defaults and ranges the core defines (src/params.h).
std::string usage() {
  const flagmask::SegmenterParams d;
  std::ostringstream u;
  u << "usage: flagmask-eval --davis ROOT [--imageset FILE | --seq NAME ...] [options]\n"
       "\n"
       "Segments each sequence of a DAVIS-layout folder (ROOT/JPEGImages/480p/SEQ/*.jpg,\n"
       "ROOT/Annotations/480p/SEQ/*.png) starting from its first mask, and prints one row per\n"
       "sequence and a last line 'mean J&F=... J=... F=... fps=...'. J and F skip the first and\n"
       "last frame as DAVIS does; fps times the core alone. Progress goes to stderr.\n"
       "\n"
       "  --davis ROOT        the data folder\n"
       "  --imageset FILE     DAVIS image set listing the sequences (relative to ROOT or "
       "absolute;\n"
       "                      default ImageSets/480p/dev.txt when present, else every sequence)\n"
       "  --seq NAME          a sequence to run (repeatable; overrides --imageset)\n"
       "  --model FILE        start with this model instead of one trained on the first frame\n"
       "  --csv FILE          also write the per-sequence rows as CSV\n"
       "  --out DIR           write the predicted masks to DIR/SEQ/%05d.png\n"
       "  --score DIR         do not run the tracker: score the masks in DIR/SEQ/*.png (one per\n"
       "                      frame, any size: each is scaled to the ground truth's); fps is 0\n"
    << "  --threshold T       object probability threshold, 0..1 (default " << d.threshold << ")\n"
    << "  --working-size N    longer side of the analysis resolution, " << flagmask::kMinWorkingSize
    << ".." << flagmask::kMaxWorkingSize << " (default " << d.working_size << ")\n"
    << "  --temporal-weight W trust in the carried mask at its boundary, 0..1 (default "
    << d.temporal_weight << ")\n"
    << "  --motion-weight M   strength of the motion-against-the-camera evidence, 0..1 (default "
    << d.motion_weight << "; 0 = off)\n"
    << "  --adapt-rate R      how fast the model follows the object, 0..1 (default " << d.adapt_rate
    << "; 0 = never)\n"
    << "  --hysteresis H      steadiness of the mask shown, 0..0.5 (default " << d.hysteresis
    << "; 0 = off)\n"
       "  --fusion FILE       fuse the cues with weights from flagmask-fit-fusion (default: the\n"
       "                      hand-set naive Bayes)\n"
       "  --network FILE      the refinement network (ONNX; default: the one installed with the\n"
       "                      plugin, or $FLAGMASK_NETWORK; '' = none)\n"
       "  --seek FROM,TO      as a player's seek: track the first FROM of each sequence (a\n"
       "                      fraction), then jump to TO (FROM <= TO) and go on from what was\n"
       "                      learned; prints J from 10 frames after the jump on, beside J of the\n"
       "                      same frames without the jump\n"
       "  --key-at F          give the truth at fraction F of each sequence (0 < F < 1) as a key\n"
       "                      mask, as a user correcting a drift does (repeatable); J and F leave\n"
       "                      that frame out (with --score: only leave it out)\n"
       "  --analyse-every K   analyse one frame in K and carry the mask to the others, as the\n"
       "                      element does when a live stream is behind (default 1: every frame)\n"
       "  -h, --help          this text\n";
  return u.str();
}

struct Options {
  flagmask::davis::Selection data;
  fs::path csv, out, score;
  std::string model, fusion, network = flagmask::defaultNetworkPath();
  flagmask::SegmenterParams params;
  double seek_from = -1, seek_to = -1; // --seek, as fractions of a sequence; none when < 0
  int analyse_every = 1;
  std::vector<double> key_at; // --key-at, fractions of a sequence
};

// Frames after a seek whose J is compared: those from the seek on, once the tracker has had this
// many frames to find the object again.
constexpr int kSeekSettle = 10;

struct Row {
  std::string name;
  double j = 0, f = 0, decay = 0, flicker = 0, fps = 0;
  int frames = 0;
  double seconds = 0;
};

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, usage());
    if (o.data.take(argc, argv, i))
      continue;
    if (a == "--model") {
      o.model = cli::value(argc, argv, i);
    } else if (a == "--csv") {
      o.csv = cli::value(argc, argv, i);
    } else if (a == "--score") {
      o.score = cli::value(argc, argv, i);
    } else if (a == "--out") {
      o.out = cli::value(argc, argv, i);
    } else if (a == "--threshold") {
      o.params.threshold = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--working-size") {
      o.params.working_size = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--motion-weight") {
      o.params.motion_weight = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--hysteresis") {
      o.params.hysteresis = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--adapt-rate") {
      o.params.adapt_rate = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--fusion") {
      o.fusion = cli::value(argc, argv, i);
    } else if (a == "--network") {
      o.network = cli::value(argc, argv, i);
    } else if (a == "--seek") {
      const std::string v = cli::value(argc, argv, i);
      const size_t comma = v.find(',');
      if (comma == std::string::npos)
        throw cli::UsageError("--seek takes FROM,TO (fractions of a sequence), not '" + v + "'");
      o.seek_from = cli::number(a, v.substr(0, comma));
      o.seek_to = cli::number(a, v.substr(comma + 1));
      if (o.seek_from < 0 || o.seek_to > 1 || o.seek_from > o.seek_to)
        throw cli::UsageError("--seek FROM,TO needs 0 <= FROM <= TO <= 1");
    } else if (a == "--key-at") {
      o.key_at.push_back(cli::number(a, cli::value(argc, argv, i)));
      if (!(o.key_at.back() > 0 && o.key_at.back() < 1))
        throw cli::UsageError("--key-at needs a fraction of a sequence, 0 < F < 1");
    } else if (a == "--analyse-every") {
      o.analyse_every = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
      if (o.analyse_every < 1)
        throw cli::UsageError("--analyse-every needs a whole number of at least 1");
    } else if (a == "--temporal-weight") {
      o.params.temporal_weight = cli::number(a, cli::value(argc, argv, i));
    } else {
      throw cli::unknownArgument(a);
    }
  }
  o.data.check();
  return o;
}

// How much more the prediction changes between frames than the truth does, over the object area
// (the larger of the two frames'). Only the excess counts: a prediction that changes less than the
// truth (a lost object's empty mask does not change at all) is not steadier for it. Frames where
// the truth has no object in either are skipped (returns false): a change over an empty object has
// no scale, and dividing by one pixel let one empty frame of `surf` outweigh the other sequences.
bool excessChange(const cv::Mat &p0, const cv::Mat &p1, const cv::Mat &g0, const cv::Mat &g1,
                  double &change) {
  const int area = std::max(cv::countNonZero(g0), cv::countNonZero(g1));
  if (area == 0)
    return false;
  const double dp = cv::countNonZero(p0 != p1), dg = cv::countNonZero(g0 != g1);
  change = std::max(0.0, dp - dg) / area;
  return true;
}

void writeMask(const fs::path &dir, size_t index, const cv::Mat &mask) {
  char name[32];
  std::snprintf(name, sizeof name, "%05zu.png", index);
  if (!cv::imwrite((dir / name).string(), mask))
    throw flagmask::Error("could not write '" + (dir / name).string() + "'");
}

// The DAVIS measures of one sequence, accumulated frame by frame.
class SequenceScore {
public:
  // scored false: the frame counts for flicker only (a key frame, whose answer is the truth).
  void add(const cv::Mat &prediction, const cv::Mat &truth, bool scored = true) {
    if (scored) {
      js_.push_back(flagmask::jaccard(prediction, truth));
      fs_.push_back(flagmask::boundaryF(prediction, truth));
    }
    double change = 0;
    if (!prev_pred_.empty() && excessChange(prev_pred_, prediction, prev_truth_, truth, change)) {
      flicker_ += change;
      ++flicker_frames_;
    }
    prev_pred_ = prediction;
    prev_truth_ = truth;
  }
  Row row(const std::string &name, double seconds) const {
    Row row;
    row.name = name;
    row.j = flagmask::sequenceMean(js_);
    row.f = flagmask::sequenceMean(fs_);
    row.decay = flagmask::decay(js_);
    row.flicker = flicker_frames_ > 0 ? flicker_ / flicker_frames_ : 0.0;
    row.frames = static_cast<int>(js_.size());
    row.seconds = seconds;
    row.fps = seconds > 0 ? js_.size() / seconds : 0.0;
    return row;
  }

private:
  std::vector<double> js_, fs_;
  double flicker_ = 0;
  int flicker_frames_ = 0;
  cv::Mat prev_pred_, prev_truth_;
};

cv::Mat loadTruth(const fs::path &file, cv::Size size) {
  return flagmask::resizeMask(flagmask::loadMask(file.string(), false), size);
}

// The core set up as the options say.
flagmask::Segmenter segmenterFor(const Options &o) {
  flagmask::Segmenter segmenter(o.params);
  if (!o.model.empty())
    segmenter.setModel(flagmask::loadModel(o.model));
  if (!o.fusion.empty())
    segmenter.setFusion(flagmask::Fusion::load(o.fusion));
  if (!o.network.empty())
    segmenter.setNetwork(flagmask::Network::load(o.network));
  return segmenter;
}

// The frames --key-at gives the truth of, in a sequence of n frames (neither the first nor the
// last).
std::set<size_t> keyFrames(const Options &o, size_t n) {
  std::set<size_t> keys;
  for (const double at : o.key_at)
    if (n > 2)
      keys.insert(std::clamp<size_t>(static_cast<size_t>(at * n), 1, n - 2));
  return keys;
}

Row evaluate(const Options &o, const std::string &name) {
  const flagmask::davis::Sequence sequence = flagmask::davis::openSequence(o.data.root, name);
  const auto &frames = sequence.frames, &truths = sequence.masks;
  const std::set<size_t> keys = keyFrames(o, frames.size());
  flagmask::Segmenter segmenter = segmenterFor(o);
  const fs::path out_dir = o.out.empty() ? fs::path() : o.out / name;
  if (!out_dir.empty())
    fs::create_directories(out_dir);

  SequenceScore score;
  double seconds = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    const cv::Mat frame = flagmask::loadFrame(frames[i].string());
    const cv::Mat truth = loadTruth(truths[i], frame.size());
    const auto t0 = std::chrono::steady_clock::now();
    const bool key = keys.count(i) > 0;
    const flagmask::Result r = i == 0                     ? segmenter.seed(frame, truth)
                               : key                      ? segmenter.key(frame, truth)
                               : i % o.analyse_every == 0 ? segmenter.process(frame)
                                                          : segmenter.carry(frame);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    score.add(r.mask, truth, !key);
    if (!out_dir.empty())
      writeMask(out_dir, i, r.mask);
  }
  return score.row(name, seconds);
}

// J of each frame from first on (the last frame excepted, as DAVIS does), tracked from the seed on
// frame 0; with jump_from < first, frames jump_from..first-1 are skipped as a seek skips them.
std::vector<double> jaccardFrom(const Options &o, const flagmask::davis::Sequence &sequence,
                                size_t first, size_t jump_from) {
  flagmask::Segmenter segmenter = segmenterFor(o);
  std::vector<double> js;
  for (size_t i = 0; i + 1 < sequence.frames.size(); ++i) {
    if (i >= jump_from && i < first)
      continue;
    const cv::Mat frame = flagmask::loadFrame(sequence.frames[i].string());
    const cv::Mat truth = loadTruth(sequence.masks[i], frame.size());
    if (i == first && jump_from < first)
      segmenter.restartFromModel();
    const flagmask::Result r = i == 0 ? segmenter.seed(frame, truth) : segmenter.process(frame);
    if (i >= first)
      js.push_back(flagmask::jaccard(r.mask, truth));
  }
  return js;
}

double mean(const std::vector<double> &v, size_t from) {
  double sum = 0;
  for (size_t i = from; i < v.size(); ++i)
    sum += v[i];
  return v.size() > from ? sum / (v.size() - from) : 0.0;
}

struct SeekRow {
  double after = 0, without = 0, first = 0; // J after the seek, without it, on the seek's frame
};

// A player's seek: frames 0..FROM tracked, then a jump to TO; J from kSeekSettle frames after the
// jump on, beside the same frames tracked without the jump.
SeekRow evaluateSeek(const Options &o, const std::string &name) {
  const flagmask::davis::Sequence sequence = flagmask::davis::openSequence(o.data.root, name);
  const size_t n = sequence.frames.size();
  const size_t to = std::max<size_t>(1, static_cast<size_t>(o.seek_to * n));
  const size_t from = std::max<size_t>(1, static_cast<size_t>(o.seek_from * n));
  const std::vector<double> seek = jaccardFrom(o, sequence, to, from);
  const std::vector<double> plain = jaccardFrom(o, sequence, to, to);
  return {mean(seek, kSeekSettle), mean(plain, kSeekSettle), seek.empty() ? 0.0 : seek[0]};
}

int runSeek(const Options &o) {
  const std::vector<std::string> names = o.data.choose("evaluate");
  double after = 0, without = 0, first = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    std::cerr << "[" << k + 1 << "/" << names.size() << "] " << names[k] << "\n";
    const SeekRow r = evaluateSeek(o, names[k]);
    std::printf("%-22s J after seek=%.3f without=%.3f (first frame after the seek %.3f)\n",
                names[k].c_str(), r.after, r.without, r.first);
    std::fflush(stdout);
    after += r.after, without += r.without, first += r.first;
  }
  const double n = static_cast<double>(names.size());
  std::printf("mean J after seek=%.3f without=%.3f difference=%.3f (from %d frames after the seek; "
              "first frame after it %.3f)\n",
              after / n, without / n, (after - without) / n, kSeekSettle, first / n);
  return 0;
}

// Scores masks made elsewhere (DIR/SEQ/*.png in frame order, e.g. by a gst-launch-1.0
// pipeline at another resolution), each scaled to the ground truth's size.
Row scoreMasks(const Options &o, const std::string &name) {
  const flagmask::davis::Sequence sequence = flagmask::davis::openSequence(o.data.root, name);
  const auto predictions = flagmask::davis::filesIn(o.score / name, {".png"});
  if (predictions.size() != sequence.masks.size())
    throw flagmask::Error("'" + (o.score / name).string() + "' has " +
                          std::to_string(predictions.size()) + " masks for " +
                          std::to_string(sequence.masks.size()) + " frames");
  const std::set<size_t> keys = keyFrames(o, predictions.size());
  SequenceScore score;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const cv::Mat truth = flagmask::loadMask(sequence.masks[i].string(), false);
    score.add(loadTruth(predictions[i], truth.size()), truth, keys.count(i) == 0);
  }
  return score.row(name, 0.0);
}

std::string formatRow(const Row &r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-22s J=%.3f F=%.3f J&F=%.3f decay=%.3f flicker=%.3f fps=%.1f",
                r.name.c_str(), r.j, r.f, (r.j + r.f) / 2, r.decay, r.flicker, r.fps);
  return line;
}

void writeCsv(const fs::path &file, const std::vector<Row> &rows) {
  std::ofstream out(file);
  if (!out)
    throw flagmask::Error("could not write '" + file.string() + "'");
  out << "sequence,J,F,JF,decay,flicker,fps,frames\n";
  for (const Row &r : rows)
    out << r.name << ',' << r.j << ',' << r.f << ',' << (r.j + r.f) / 2 << ',' << r.decay << ','
        << r.flicker << ',' << r.fps << ',' << r.frames << '\n';
}

int run(const Options &o) {
  if (o.seek_from >= 0)
    return runSeek(o);
  const std::vector<std::string> names = o.data.choose("evaluate");
  std::vector<Row> rows;
  double j = 0, f = 0, decay = 0, flicker = 0, seconds = 0, frames = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    std::cerr << "[" << k + 1 << "/" << names.size() << "] " << names[k] << "\n";
    rows.push_back(o.score.empty() ? evaluate(o, names[k]) : scoreMasks(o, names[k]));
    const Row &r = rows.back();
    std::cout << formatRow(r) << std::endl;
    j += r.j, f += r.f, decay += r.decay, flicker += r.flicker;
    seconds += r.seconds, frames += r.frames;
  }
  const double n = static_cast<double>(rows.size());
  if (!o.csv.empty())
    writeCsv(o.csv, rows);
  std::printf("decay=%.3f flicker=%.3f\n", decay / n, flicker / n);
  std::printf("mean J&F=%.3f J=%.3f F=%.3f fps=%.1f\n", (j + f) / (2 * n), j / n, f / n,
              seconds > 0 ? frames / seconds : 0.0);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return flagmask::cli::runTool("flagmask-eval", argc, argv, parse, run);
}
