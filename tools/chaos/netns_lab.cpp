#include "netns_lab.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace chat::chaos {

namespace {

// Runs a shell command; its output (for errors) and whether it succeeded.
std::pair<bool, std::string> sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return {false, "cannot run a shell"};
  }
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  int rc = ::pclose(pipe);
  return {rc == 0, out};
}

}  // namespace

std::vector<int> NetnsLab::members() const {
  std::vector<int> out;
  for (int i = 1; i <= nodes_; ++i) {
    out.push_back(i);
  }
  for (int k = 1; k <= clients_; ++k) {
    out.push_back(100 + k);
  }
  return out;
}

Result<std::unique_ptr<NetnsLab>> NetnsLab::create(int nodes, int clients) {
  if (::geteuid() != 0) {
    return Status::unavailable("partitions need root (network namespaces); run as root or "
                               "leave out --partitions");
  }
  if (!sh("ip -V").first) {
    return Status::unavailable("partitions need the ip command (apt-get install iproute2)");
  }
  int pid = static_cast<int>(::getpid());
  std::string tag = std::to_string(pid % 100000);
  // A subnet no other lab (a test running beside this one) routes already.
  std::string subnet;
  for (int k = 0; k < 250 && subnet.empty(); ++k) {
    std::string candidate = "10.77." + std::to_string((pid + k) % 250 + 1);
    if (sh("ip -4 route show " + candidate + ".0/24").second.empty()) {
      subnet = candidate;
    }
  }
  if (subnet.empty()) {
    return Status::unavailable("no free 10.77.x.0/24 subnet for the partition network");
  }
  std::unique_ptr<NetnsLab> lab(new NetnsLab(nodes, clients, tag, subnet));
  lab->cut_.assign(static_cast<size_t>(nodes) + 1, false);
  std::string bridge = "cb" + tag;
  std::vector<std::string> steps = {
      "ip link add " + bridge + " type bridge",
      "ip addr add " + subnet + ".254/24 dev " + bridge,
      "ip link set " + bridge + " up",
  };
  for (int i : lab->members()) {
    std::string ns = lab->netns(i);
    std::string host = "cv" + tag + "n" + std::to_string(i);
    std::string inner = "ci" + tag + "n" + std::to_string(i);
    steps.push_back("ip netns add " + ns);
    steps.push_back("ip link add " + host + " type veth peer name " + inner);
    steps.push_back("ip link set " + inner + " netns " + ns);
    steps.push_back("ip link set " + host + " master " + bridge);
    steps.push_back("ip link set " + host + " up");
    steps.push_back("ip netns exec " + ns + " ip link set lo up");
    steps.push_back("ip netns exec " + ns + " ip addr add " + lab->address(i) + "/24 dev " + inner);
    steps.push_back("ip netns exec " + ns + " ip link set " + inner + " up");
  }
  for (const auto& step : steps) {
    auto [ok, out] = sh(step);
    if (!ok) {
      return Status::unavailable("could not build the partition network: '" + step + "': " + out);
    }
  }
  return lab;
}

NetnsLab::~NetnsLab() {
  destroy();
}

void NetnsLab::destroy() {
  for (int i : members()) {
    sh("ip netns del " + netns(i));
    sh("ip link del cv" + tag_ + "n" + std::to_string(i));
  }
  sh("ip link del cb" + tag_);
}

std::string NetnsLab::address(int node) const {
  return subnet_ + "." + std::to_string(node);
}

std::string NetnsLab::netns(int node) const {
  return "chaos" + tag_ + "n" + std::to_string(node);
}

Status NetnsLab::cut(int node) {
  for (int j = 1; j <= nodes_; ++j) {
    if (j != node) {
      auto [ok, out] = sh("ip netns exec " + netns(node) + " ip route add blackhole " + address(j) + "/32");
      if (!ok) {
        return Status::ioError("cut " + std::to_string(node) + ": " + out);
      }
    }
  }
  cut_[static_cast<size_t>(node)] = true;
  return Status::ok();
}

Status NetnsLab::heal(int node) {
  for (int j = 1; j <= nodes_; ++j) {
    if (j != node) {
      sh("ip netns exec " + netns(node) + " ip route del blackhole " + address(j) + "/32");
    }
  }
  cut_[static_cast<size_t>(node)] = false;
  return Status::ok();
}

}  // namespace chat::chaos
