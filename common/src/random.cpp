#include "chat/common/random.h"

namespace chat {

uint64_t Random::entropySeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace chat
