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
foreach(program ${chat_programs})
  install(FILES docs/man/${program}.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
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
set(CPACK_PACKAGE_CONTACT "chat suite maintainers <chat@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "terminal chat suite that stays up when its servers die (server, supervisor, client)")
set(CPACK_PACKAGE_DESCRIPTION
    "chat-node (a replicated chat server on SQLite), chat-supervisor (runs and watches a\n\
cluster), chat-tui (the full-screen client), chat-bench and chat-chaos.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tmux, iproute2")
# postinst makes the chat user and this machine's cluster secret; postrm removes the secret
# on purge (cmake/debian).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
