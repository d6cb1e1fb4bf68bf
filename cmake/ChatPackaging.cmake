# Installing and packaging: `cmake --install build` puts the programs in bin, the man pages in
# share/man/man1 and the example settings in /etc/chat (for any prefix: Debian keeps settings
# in /etc); `cpack -G DEB` (run in the build folder) makes chat-suite_<version>_<arch>.deb,
# its library dependencies worked out by dpkg-shlibdeps. docs/operations.md, "Install".
include(GNUInstallDirs)

set(chat_programs chat-node chat-supervisor chat-tui)
if(CHAT_BUILD_TOOLS)
  list(APPEND chat_programs chat-bench chat-chaos chat-hostile)
endif()
install(TARGETS ${chat_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The cluster files as installed: the secret is the one the package's postinst makes on this
# machine (/etc/chat/cluster.secret, 0640 root:chat), and the nodes' data lives in the
# systemd unit's state folder (/var/lib/chat), not in a var/ beside wherever they start.
foreach(cluster_file cluster.ini cluster-3.ini)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS etc/${cluster_file})
  file(READ etc/${cluster_file} text)
  string(REPLACE "secret_file = var/cluster.secret" "secret_file = /etc/chat/cluster.secret"
         text "${text}")
  string(REGEX REPLACE "data_dir = var/" "data_dir = /var/lib/chat/" text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/packaged-etc/${cluster_file} "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/packaged-etc/${cluster_file} DESTINATION /etc/chat)
endforeach()
install(FILES etc/chat-node.properties etc/tui.ini DESTINATION /etc/chat)
# Man pages and the changelog gzipped as Debian keeps them (-n: no name or time in the
# header, so the same sources make the same bytes).
find_program(CHAT_GZIP gzip REQUIRED)
set(chat_gzipped)
foreach(program ${chat_programs})
  set(page ${CMAKE_BINARY_DIR}/man/${program}.1.gz)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${CHAT_GZIP} -9n -c ${PROJECT_SOURCE_DIR}/docs/man/${program}.1 > ${page}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${program}.1 VERBATIM)
  list(APPEND chat_gzipped ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
# The package's maintainer, in its changelog and control file: the project's own identity.
set(CHAT_MAINTAINER "Seed 922ac757 maintainers <maintainers@users.noreply.b-seed-922ac757.example>"
    CACHE STRING "The Debian package's Maintainer (name <address>)")
configure_file(cmake/debian/changelog.in ${CMAKE_BINARY_DIR}/debian/changelog @ONLY)
set(changelog ${CMAKE_BINARY_DIR}/debian/changelog.gz)
add_custom_command(OUTPUT ${changelog}
  COMMAND ${CHAT_GZIP} -9n -c ${CMAKE_BINARY_DIR}/debian/changelog > ${changelog}
  DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog VERBATIM)
list(APPEND chat_gzipped ${changelog})
add_custom_target(chat_package_docs ALL DEPENDS ${chat_gzipped})
# Debian names the folder after the package, not the CMake project.
set(chat_docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc/chat-suite)
install(FILES ${changelog} DESTINATION ${chat_docdir})
install(FILES cmake/debian/copyright README.md DESTINATION ${chat_docdir})
# Bash completion: one script for every program, under each program's name, where
# bash-completion looks for it on demand.
foreach(program ${chat_programs})
  install(FILES etc/bash-completion/chat-suite
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${program})
endforeach()
# The systemd template unit for one node per host (docs/deploy.md).
install(FILES etc/systemd/chat-node@.service DESTINATION /lib/systemd/system)

set(CPACK_PACKAGE_NAME chat-suite)
set(CPACK_PACKAGE_VENDOR "the chat suite")
set(CPACK_PACKAGE_CONTACT "${CHAT_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CHAT_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "terminal chat suite that stays up when its servers die
chat-node is a chat server (accounts, private messages, rooms, history) that
replicates every change by Raft to a majority of its cluster and keeps it in
SQLite; chat-supervisor runs and watches a cluster; chat-tui is the
full-screen client that rides through failover; chat-bench, chat-chaos and
chat-hostile measure, break and attack it.
.
Purging the package deletes every node's data on this machine (the messages
and accounts in /var/lib/chat), its logs (/var/log/chat) and its cluster
secret; removing it keeps them.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tmux, iproute2")
# postinst makes the chat user, its folders and this machine's cluster secret; prerm stops
# the nodes on remove; postrm deletes the secret and the data on purge (cmake/debian).
# The settings an administrator edits are conffiles: an upgrade that changes a shipped
# default asks instead of overwriting an edit. (The secret is made, not shipped: no conffile.)
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles
     "/etc/chat/cluster.ini\n/etc/chat/cluster-3.ini\n/etc/chat/chat-node.properties\n"
     "/etc/chat/tui.ini\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm ${CMAKE_BINARY_DIR}/debian/conffiles)
# Debug information stays in the build tree; the package carries stripped programs.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
