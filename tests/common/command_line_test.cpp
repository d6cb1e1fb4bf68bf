#include "chat/common/command_line.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

struct Parsed {
  std::string name;
  int count = 0;
  double rate = 0;
  bool verbose = false;
  std::vector<std::string> items;
  std::vector<std::string> words;
};

CommandLine lineFor(Parsed& p, bool takesWords = false) {
  CommandLine line("prog");
  line.text("--name", p.name)
      .number("--count", p.count, 1, 10)
      .number("--rate", p.rate, 0.0, 100.0)
      .flag("--verbose", p.verbose)
      .option("--item", [&p](const std::string& v) {
        p.items.push_back(v);
        return v == "bad" ? Status::invalidArgument("--item cannot be bad") : Status::ok();
      });
  if (takesWords) {
    line.words(p.words);
  }
  return line;
}

TEST(CommandLineUnitTest, BothFormsOfAnOptionMeanTheSame) {
  Parsed a;
  Parsed b;
  auto ra = lineFor(a).parse({"--name", "x=y", "--count", "3", "--rate", "2.5", "--verbose",
                              "--item", "--looks-like-an-option"});
  auto rb = lineFor(b).parse({"--name=x=y", "--count=3", "--rate=2.5", "--verbose",
                              "--item=--looks-like-an-option"});
  ASSERT_TRUE(ra.has_value()) << ra.error().message();
  ASSERT_TRUE(rb.has_value()) << rb.error().message();
  for (const Parsed* p : {&a, &b}) {
    EXPECT_EQ(p->name, "x=y");
    EXPECT_EQ(p->count, 3);
    EXPECT_DOUBLE_EQ(p->rate, 2.5);
    EXPECT_TRUE(p->verbose);
    EXPECT_EQ(p->items, std::vector<std::string>{"--looks-like-an-option"});
  }
}

TEST(CommandLineUnitTest, TheFirstBadArgumentIsRefusedWithASentence) {
  auto refusal = [](std::vector<std::string> args) {
    Parsed p;
    auto r = lineFor(p).parse(args);
    return r.has_value() ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(refusal({"--bogus", "--count", "99"}), "unknown option --bogus");
  EXPECT_EQ(refusal({"--count", "99", "--bogus"}), "--count takes a number from 1 to 10, not '99'");
  EXPECT_EQ(refusal({"--count=3x"}), "--count takes a number from 1 to 10, not '3x'");
  EXPECT_EQ(refusal({"--rate", "-1"}), "--rate takes a number from 0 to 100, not '-1'");
  EXPECT_EQ(refusal({"--name"}), "--name needs a value");
  EXPECT_EQ(refusal({"--name="}), "--name needs a value, not an empty one");
  EXPECT_EQ(refusal({"--verbose=yes"}), "--verbose takes no value");
  EXPECT_EQ(refusal({"word"}), "unexpected argument 'word' (every option starts with --)");
  EXPECT_EQ(refusal({"--item", "bad"}), "--item cannot be bad");
  EXPECT_EQ(refusal({"-x"}), "unknown option -x");
}

TEST(CommandLineUnitTest, HelpAndVersionAnswerWhateverFollows) {
  Parsed p;
  EXPECT_EQ(*lineFor(p).parse({"--count", "2", "--help", "--bogus"}), CommandLine::Outcome::kHelp);
  EXPECT_EQ(*lineFor(p).parse({"-h"}), CommandLine::Outcome::kHelp);
  EXPECT_EQ(*lineFor(p).parse({"--version", "junk"}), CommandLine::Outcome::kVersion);
  EXPECT_EQ(*lineFor(p).parse({}), CommandLine::Outcome::kRun);
}

TEST(CommandLineUnitTest, WordsAreTakenInOrderWhenTheProgramWantsThem) {
  Parsed p;
  auto r = lineFor(p, true).parse({"kill", "--count=2", "leader"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(p.words, (std::vector<std::string>{"kill", "leader"}));
  EXPECT_EQ(p.count, 2);
}

TEST(CommandLineUnitTest, NamesListsEveryOptionInOrder) {
  Parsed p;
  EXPECT_EQ(lineFor(p).names(),
            (std::vector<std::string>{"--name", "--count", "--rate", "--verbose", "--item"}));
}

}  // namespace
}  // namespace chat
