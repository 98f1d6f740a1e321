local common = import 'common.libsonnet';
{
  clientGrpcServers: [{
    listenAddresses: ['localhost:' + std.extVar('GOB_BB_SCHEDULER_CLIENT_PORT')],
    authenticationPolicy: common.allow,
  }],
  workerGrpcServers: [{
    listenAddresses: ['localhost:' + std.extVar('GOB_BB_SCHEDULER_WORKER_PORT')],
    authenticationPolicy: common.allow,
  }],
  // Its web page counts the workers: the tests wait on it until every worker is ready.
  adminHttpServers: [{
    listenAddresses: ['localhost:' + std.extVar('GOB_BB_SCHEDULER_ADMIN_PORT')],
    authenticationPolicy: common.allow,
  }],
  browserUrl: 'http://localhost',
  contentAddressableStorage: common.blobstore.contentAddressableStorage,
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  executeAuthorizer: common.allow,
  modifyDrainsAuthorizer: common.allow,
  killOperationsAuthorizer: common.allow,
  synchronizeAuthorizer: common.allow,
  actionRouter: {
    simple: {
      platformKeyExtractor: { actionAndCommand: {} },
      invocationKeyExtractors: [{ correlatedInvocationsId: {} }, { toolInvocationId: {} }],
      initialSizeClassAnalyzer: {
        defaultExecutionTimeout: '1800s',
        maximumExecutionTimeout: '7200s',
      },
    },
  },
  // A platform nobody serves fails at once rather than waiting for a worker.
  platformQueueWithNoWorkersTimeout: '5s',
}
