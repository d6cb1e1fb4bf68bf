#include "chat/log/state_file.h"

#include <array>

#include "chat/log/crc32c.h"
#include "record_format.h"

namespace chat::log {
namespace {

constexpr uint32_t kStateMagic = 0x54534843U;  // "CHST" read little-endian
constexpr size_t kHeaderBytes = 12;

}  // namespace

Status writeStateFile(FileSystem& fs, const std::string& path, ByteSpan payload) {
  std::string temporary = path + ".tmp";
  CHAT_RETURN_IF_ERROR(fs.remove(temporary));
  auto file = fs.open(temporary, OpenMode::kCreateExclusive);
  if (!file) {
    return file.error();
  }
  std::array<uint8_t, kHeaderBytes> header{};
  format::putU32(header.data(), kStateMagic);
  format::putU32(header.data() + 4, static_cast<uint32_t>(payload.size()));
  format::putU32(header.data() + 8, crc32c::mask(crc32c::value(payload)));
  CHAT_RETURN_IF_ERROR((*file)->write(0, std::array<ByteSpan, 2>{ByteSpan(header), payload}));
  CHAT_RETURN_IF_ERROR((*file)->sync());
  file->reset();
  CHAT_RETURN_IF_ERROR(fs.rename(temporary, path));
  return fs.syncDir(parentFolder(path));
}

Result<std::optional<std::vector<uint8_t>>> readStateFile(FileSystem& fs,
                                                          const std::string& path) {
  auto bytes = readWholeFile(fs, path);
  if (!bytes) {
    if (bytes.error().code() == StatusCode::kNotFound) {
      return std::optional<std::vector<uint8_t>>();
    }
    return bytes.error();
  }
  const auto& b = *bytes;
  if (b.size() < kHeaderBytes || format::getU32(b.data()) != kStateMagic ||
      format::getU32(b.data() + 4) != b.size() - kHeaderBytes ||
      crc32c::unmask(format::getU32(b.data() + 8)) !=
          crc32c::value({b.data() + kHeaderBytes, b.size() - kHeaderBytes})) {
    return Status::corruption("the state file " + path +
                              " is damaged (bad header or checksum); move the data folder "
                              "aside and let the node rejoin from its peers");
  }
  return std::optional<std::vector<uint8_t>>(
      std::vector<uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(kHeaderBytes), b.end()));
}

}  // namespace chat::log
