// Unit tests for reading the key-masks property's value: a folder of masks named by frame number,
// or a list of stream times and files.
#include "error.h"
#include "key_masks.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using flagmask::keyMaskNames;

class KeyMasksTest : public flagmask::testing::TempDirTest {
protected:
  void touch(const std::string &name) const { std::ofstream(path(name)) << "x"; }
};

TEST_F(KeyMasksTest, AFolderGivesItsFramesInOrderAndSkipsOtherFiles) {
  touch("00040.png");
  touch("7.PNG");
  touch("00012.png");
  touch("notes.txt");
  touch("frame3.png");
  touch("00005.jpg");
  const auto names = keyMaskNames(dir_.string());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(*names[0].frame, 7);
  EXPECT_EQ(*names[1].frame, 12);
  EXPECT_EQ(*names[2].frame, 40);
  EXPECT_EQ(names[2].path, path("00040.png"));
  for (const auto &name : names)
    EXPECT_FALSE(name.time.has_value());
}

TEST_F(KeyMasksTest, AFolderWithoutFrameMasksIsRefusedNamingIt) {
  touch("notes.txt");
  flagmask::testing::expectErrorNaming([&] { keyMaskNames(dir_.string()); }, dir_.string());
}

TEST_F(KeyMasksTest, TwoFilesForOneFrameAreRefused) {
  touch("12.png");
  touch("00012.png");
  flagmask::testing::expectErrorNaming([&] { keyMaskNames(dir_.string()); }, "two masks");
}

TEST(KeyMaskList, TimesInSecondsAndFilesThatMayHoldAColon) {
  const auto names = keyMaskNames("2.5:b.png,0.04:/tmp/a:1.png,10:c.png");
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(*names[0].time, 40'000'000);
  EXPECT_EQ(names[0].path, "/tmp/a:1.png");
  EXPECT_EQ(*names[1].time, 2'500'000'000);
  EXPECT_EQ(names[1].path, "b.png");
  EXPECT_EQ(*names[2].time, 10'000'000'000);
  EXPECT_FALSE(names[2].frame.has_value());
}

TEST(KeyMaskList, EntriesThatAreNotTimeAndFileAreRefusedQuotingThem) {
  for (const std::string bad : {"fix.png", "2.5:", "-1:a.png", "x:a.png", "1:a.png,,2:b.png",
                                "1s:a.png", "1:a.png,1.0:b.png"})
    EXPECT_THROW(keyMaskNames(bad), flagmask::Error) << bad;
  flagmask::testing::expectErrorNaming([] { keyMaskNames("1:a.png,oops"); }, "'oops'");
  EXPECT_TRUE(keyMaskNames("").empty());
}

TEST(KeyMaskList, FrameTimesFollowTheRateExactly) {
  EXPECT_EQ(flagmask::frameTime(5, 30, 1), 166'666'667);
  EXPECT_EQ(flagmask::frameTime(30000, 30000, 1001), 1'001'000'000'000); // NTSC's 29.97
  EXPECT_EQ(flagmask::frameTime(0, 25, 1), 0);
}

} // namespace
