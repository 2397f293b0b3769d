#include "pace.h"

#include <algorithm>

namespace flagmask {

namespace {

// Shares of the frame period. Above kBusy the stream falls behind; a wider interval is chosen to
// bring the mean cost under kFits; it comes down only when the narrower one fits under kRoom, so a
// cost that wavers around the period does not make the interval swing at every frame.
constexpr double kBusy = 0.9;
constexpr double kFits = 0.8;
constexpr double kRoom = 0.65;
// The frames without a late report the interval waits for before it comes down (Pacer::kFirstCalm
// at first) double after each step down that had to be undone, up to this (16 s at 30 frames a
// second).
constexpr int kLongestCalm = 480;
// Weight of the newest frame in the moving averages of the cost.
constexpr double kSmoothing = 0.2;
// A carried frame's cost as a share of an analysed one's, until one is measured.
constexpr double kCarriedShare = 0.15;

double average(double mean, double sample, bool first) {
  return first ? sample : mean + kSmoothing * (sample - mean);
}

} // namespace

void Pacer::reportLateness(std::int64_t late_ns, std::optional<std::int64_t> at_ns) {
  last_late_ns_ = late_ns;
  if (late_ns <= 0)
    return;
  late_ = true;
  if (at_ns)
    earliest_ns_ = std::max(earliest_ns_.value_or(*at_ns + late_ns), *at_ns + late_ns);
}

bool Pacer::analyseNext(std::optional<std::int64_t> period_ns,
                        std::optional<std::int64_t> running_ns) {
  far_behind_ = period_ns && *period_ns > 0 && last_late_ns_ > kMaxAnalysisInterval * *period_ns;
  const bool timed = period_ns && *period_ns > 0 && analysed_cost_ > 0;
  const double period = timed ? static_cast<double>(*period_ns) * 1e-9 : 0.0;
  if (late_) {
    late_ = false;
    since_late_ = 0;
    if (timed && since_change_ > interval_ && meanCost(interval_) > kBusy * period)
      raise(period);
  } else if (timed && interval_ > 1 && since_late_ >= calm_needed_ &&
             since_change_ >= calm_needed_ && meanCost(interval_ - 1) <= kRoom * period) {
    lower();
  }
  const bool paced = phase_ == 0;
  phase_ = (phase_ + 1) % interval_;
  const bool due = running_ns && earliest_ns_ && *running_ns <= *earliest_ns_;
  const bool analyse = paced && !(due && carried_in_row_ < kMaxAnalysisInterval - 1);
  carried_in_row_ = analyse ? 0 : carried_in_row_ + 1;
  return analyse;
}

void Pacer::finished(double seconds, bool analysed) {
  if (analysed && ++analysed_frames_ == 1) {
    // The first tracked frame writes the tracker's working images for the first time: slower
    // than the frames after it.
  } else if (analysed) {
    analysed_cost_ = average(analysed_cost_, seconds, analysed_cost_ <= 0);
  } else {
    carried_cost_ = average(carried_cost_, seconds, !carried_known_);
    carried_known_ = true;
  }
  ++since_change_;
  ++since_late_;
}

void Pacer::reset() {
  *this = Pacer();
}

// The mean cost of a frame when one in `interval` is analysed.
double Pacer::meanCost(int interval) const {
  const double carried = carried_known_ ? carried_cost_ : kCarriedShare * analysed_cost_;
  return (analysed_cost_ + (interval - 1) * carried) / interval;
}

// The narrowest interval whose cost fits; the widest when none does.
void Pacer::raise(double period) {
  int wanted = interval_ + 1;
  while (wanted < kMaxAnalysisInterval && meanCost(wanted) > kFits * period)
    ++wanted;
  if (lowered_ && since_change_ < 2 * calm_needed_)
    calm_needed_ = std::min(2 * calm_needed_, kLongestCalm);
  interval_ = std::min(wanted, kMaxAnalysisInterval);
  since_change_ = 0;
  lowered_ = false;
}

void Pacer::lower() {
  --interval_;
  phase_ = 0;
  since_change_ = 0;
  lowered_ = true;
}

} // namespace flagmask
