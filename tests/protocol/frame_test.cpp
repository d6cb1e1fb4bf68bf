#include "chat/protocol/frame.h"

#include <gtest/gtest.h>

namespace chat::protocol {
namespace {

std::vector<uint8_t> frameBytes(uint16_t opcode, uint64_t id, std::vector<uint8_t> payload) {
  std::vector<uint8_t> out;
  encodeFrame(opcode, id, payload, out);
  return out;
}

TEST(FrameTest, EncodesTheDocumentedLayout) {
  auto bytes = frameBytes(11, 0x0102030405060708ULL, {0xAA});
  std::vector<uint8_t> expected = {0, 0,  0, 12,  // length = 11 header + 1 payload
                                   4,             // version
                                   0, 11,         // opcode
                                   1, 2,  3, 4,  5, 6, 7, 8, 0xAA};
  EXPECT_EQ(bytes, expected);
}

TEST(FrameDecoderTest, DecodesAFrameFedOneByteAtATime) {
  auto bytes = frameBytes(3, 42, {1, 2, 3});
  FrameDecoder decoder(65536);
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    decoder.feed({&bytes[i], 1});
    EXPECT_FALSE(decoder.next().has_value());
  }
  decoder.feed({&bytes.back(), 1});
  auto frame = decoder.next();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 3);
  EXPECT_EQ(frame->requestId, 42u);
  EXPECT_EQ(frame->payload, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_FALSE(decoder.error().has_value());
}

TEST(FrameDecoderTest, DecodesSeveralFramesFromOneRead) {
  std::vector<uint8_t> bytes;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto f = frameBytes(11, id, {});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  FrameDecoder decoder(65536);
  decoder.feed(bytes);
  for (uint64_t id = 1; id <= 3; ++id) {
    auto frame = decoder.next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->requestId, id);
  }
  EXPECT_FALSE(decoder.next().has_value());
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoderTest, TruncatedFrameWaitsForMoreBytes) {
  auto bytes = frameBytes(3, 1, std::vector<uint8_t>(100, 7));
  bytes.resize(50);
  FrameDecoder decoder(65536);
  decoder.feed(bytes);
  EXPECT_FALSE(decoder.next().has_value());
  EXPECT_FALSE(decoder.error().has_value());
  EXPECT_EQ(decoder.buffered(), 50u);
}

TEST(FrameDecoderTest, RejectsLengthAboveLimitBeforeBuffering) {
  std::vector<uint8_t> header = {0x00, 0x10, 0x00, 0x00, 2};  // 1 MiB claimed, 5 bytes sent
  FrameDecoder decoder(64 * 1024);
  decoder.feed(header);
  EXPECT_FALSE(decoder.next().has_value());
  ASSERT_TRUE(decoder.error().has_value());
  EXPECT_EQ(decoder.error()->code, ErrorCode::kTooLarge);
  EXPECT_NE(decoder.error()->message.find("65536"), std::string::npos);
}

TEST(FrameDecoderTest, RejectsLengthShorterThanHeader) {
  std::vector<uint8_t> bytes = {0, 0, 0, 3, 2, 0, 0};
  FrameDecoder decoder(65536);
  decoder.feed(bytes);
  EXPECT_FALSE(decoder.next().has_value());
  ASSERT_TRUE(decoder.error().has_value());
  EXPECT_EQ(decoder.error()->code, ErrorCode::kMalformed);
}

TEST(FrameDecoderTest, RejectsUnknownVersionAsSoonAsItsByteArrives) {
  std::vector<uint8_t> bytes = {0, 0, 0, 11, 9};
  FrameDecoder decoder(65536);
  decoder.feed(bytes);
  EXPECT_FALSE(decoder.next().has_value());
  ASSERT_TRUE(decoder.error().has_value());
  EXPECT_EQ(decoder.error()->code, ErrorCode::kUnsupportedVersion);
}

TEST(FrameDecoderTest, StaysFailedAfterAnError) {
  FrameDecoder decoder(16);
  std::vector<uint8_t> big = {0, 0, 1, 0};
  decoder.feed(big);
  EXPECT_FALSE(decoder.next().has_value());
  auto good = frameBytes(11, 1, {});
  decoder.feed(good);
  EXPECT_FALSE(decoder.next().has_value());
  EXPECT_TRUE(decoder.error().has_value());
}

}  // namespace
}  // namespace chat::protocol
