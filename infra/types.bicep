// Shared parameter types: one place that says what a memory class and a workload profile are.

@export()
@description('A memory class for heavy quanta: one Service Bus queue and one Container Apps job, sized together.')
type memoryClass = {
  @description('Class name as the orchestrations use it; names the queue (drp-jobs-<name>) and the job.')
  @minLength(1)
  @maxLength(13)
  name: string

  @description('Workload profile the job runs on: Consumption (at most 4 vCPU / 8 GiB), or a dedicated profile declared in workloadProfiles.')
  workloadProfileName: string

  @description('vCPU per replica, as a decimal string (\'0.5\', \'2.0\').')
  cpu: string

  @description('Memory per replica (\'4Gi\').')
  memory: string

  @description('Seconds a replica may run before it is stopped (the job\'s heartbeat ceiling).')
  @minValue(60)
  replicaTimeoutSeconds: int

  @description('Times a failed replica is retried by Container Apps before the execution fails.')
  @minValue(0)
  replicaRetryLimit: int

  @description('Most executions of this class running at once.')
  @minValue(1)
  maxExecutions: int

  @description('Deliveries of one job message before Service Bus dead-letters it.')
  @minValue(1)
  maxDeliveryCount: int
}

@export()
@description('A dedicated workload profile of the Container Apps environment (scales to zero nodes when idle).')
type workloadProfile = {
  @description('Profile name the memory classes refer to.')
  name: string

  @description('Profile type, e.g. E8 (8 vCPU, 64 GiB) or E32 (32 vCPU, 256 GiB).')
  workloadProfileType: string

  @description('Nodes kept when idle; 0 means no cost at idle.')
  @minValue(0)
  minimumCount: int

  @description('Most nodes of this profile.')
  @minValue(1)
  maximumCount: int
}
