// TestCa: a throwaway certificate authority made with the openssl command in a temporary
// folder, and a node certificate it signs for 127.0.0.1 (and only that address), for tests
// of TLS. A second, unrelated CA plays the impostor.
#ifndef CHAT_TESTS_SUPPORT_TEST_CA_H_
#define CHAT_TESTS_SUPPORT_TEST_CA_H_

#include <fstream>
#include <string>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat::testing {

class TestCa {
 public:
  TestCa() {
    ok_ = makeCa("ca") && makeCa("other-ca") && makeNodeCertificate();
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string caFile() const { return dir_.file("ca.pem"); }
  std::string otherCaFile() const { return dir_.file("other-ca.pem"); }
  std::string certificateFile() const { return dir_.file("node.pem"); }
  std::string keyFile() const { return dir_.file("node.key"); }
  std::string otherKeyFile() const { return dir_.file("other-ca.key"); }

 private:
  bool run(const std::string& command) {
    auto r = runCommand(command);
    if (r.exitCode != 0) {
      error_ = command + ": " + r.output;
      return false;
    }
    return true;
  }
  bool makeCa(const std::string& name) {
    return run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=chat test " + name +
               "' -keyout " + dir_.file(name + ".key") + " -out " + dir_.file(name + ".pem"));
  }
  bool makeNodeCertificate() {
    std::ofstream(dir_.file("ext.cnf")) << "subjectAltName=IP:127.0.0.1\n";
    return run("openssl req -newkey rsa:2048 -nodes -subj '/CN=chat node' -keyout " +
               keyFile() + " -out " + dir_.file("node.csr")) &&
           run("openssl x509 -req -days 2 -in " + dir_.file("node.csr") + " -CA " + caFile() +
               " -CAkey " + dir_.file("ca.key") + " -CAcreateserial -extfile " +
               dir_.file("ext.cnf") + " -out " + certificateFile());
  }

  TempDir dir_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_TEST_CA_H_
