local dir = std.extVar('GOB_BB_WORKER_DIR');
{
  buildDirectoryPath: dir + '/build',
  grpcServers: [{
    listenPaths: [dir + '/runner'],
    authenticationPolicy: { allow: {} },
  }],
}
