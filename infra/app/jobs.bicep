// Container Apps environment and one event-driven job per memory class: KEDA's azure-servicebus scaler starts an
// execution per waiting job message; CPU, memory, replica timeout and retry limit come from the class.
// Logs go to Log Analytics through a diagnostic setting (no workspace key is handed to the environment).

import { memoryClass, workloadProfile } from '../types.bicep'

@description('Region of the environment and the jobs.')
param location string

@description('Tags for every resource.')
param tags object

@description('Container Apps environment name.')
param environmentName string

@description('Job name prefix (abbreviation).')
param jobNamePrefix string

@description('Resource token that makes names unique.')
param resourceToken string

@description('Log Analytics workspace for the environment\'s logs.')
param logAnalyticsName string

@description('Dedicated workload profiles besides Consumption.')
param workloadProfiles workloadProfile[]

@description('Memory classes: one job each.')
param memoryClasses memoryClass[]

@description('Drp.Jobs image.')
param image string

@description('Registry the image is pulled from with the jobs identity.')
param registryLoginServer string

@description('Resource id of the jobs identity.')
param jobsIdentityId string

@description('Client id of the jobs identity (Drp__Storage__ManagedIdentityClientId).')
param jobsIdentityClientId string

@description('Resource id of the scaler identity (KEDA azure-servicebus).')
param scalerIdentityId string

@description('Service Bus namespace of the job queues.')
param serviceBusNamespace string

@description('Heartbeat interval of jobs whose message carries none (a .NET TimeSpan, e.g. 00:01:00).')
param jobHeartbeatInterval string = '00:01:00'

@description('Storage account of the system\'s data.')
param storageAccountName string

@description('Container, queue and table names shared with the code (main.bicep: names).')
param names {
  rawContainer: string
  dataContainer: string
  deploymentContainer: string
  arrivalsQueue: string
  completionsQueue: string
  registryTable: string
  ledgerTable: string
  sourceTable: string
  ccdVisitTable: string
  visitTable: string
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: logAnalyticsName
}

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: concat(
      [{ name: 'Consumption', workloadProfileType: 'Consumption' }],
      map(workloadProfiles, p => {
        name: p.name
        workloadProfileType: p.workloadProfileType
        minimumCount: p.minimumCount
        maximumCount: p.maximumCount
      })
    )
  }
}

// 2021-05-01-preview is the newest diagnostic-settings API for a resource scope; the linter's suggested 2016-09-01 is
// a different, service-level type that cannot target the environment. The one suppressed finding in infra/.
#disable-next-line use-recent-api-versions
resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logAnalytics.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

resource jobs 'Microsoft.App/jobs@2025-01-01' = [
  for c in memoryClasses: {
    name: take('${jobNamePrefix}${c.name}-${resourceToken}', 32)
    location: location
    tags: tags
    identity: {
      type: 'UserAssigned'
      userAssignedIdentities: { '${jobsIdentityId}': {}, '${scalerIdentityId}': {} }
    }
    properties: {
      environmentId: environment.id
      workloadProfileName: c.workloadProfileName
      configuration: {
        triggerType: 'Event'
        replicaTimeout: c.replicaTimeoutSeconds
        replicaRetryLimit: c.replicaRetryLimit
        registries: [{ server: registryLoginServer, identity: jobsIdentityId }]
        eventTriggerConfig: {
          parallelism: 1
          replicaCompletionCount: 1
          scale: {
            minExecutions: 0
            maxExecutions: c.maxExecutions
            pollingInterval: 30
            rules: [
              {
                name: 'job-queue'
                type: 'azure-servicebus'
                metadata: {
                  namespace: serviceBusNamespace
                  queueName: 'drp-jobs-${c.name}'
                  messageCount: '1'
                }
                identity: scalerIdentityId
              }
            ]
          }
        }
      }
      template: {
        containers: [
          {
            name: 'drp-jobs'
            image: image
            resources: { cpu: json(c.cpu), memory: c.memory }
            // Every name here is read by Drp.Jobs; the settings cross-check test enforces both ways.
            env: [
              { name: 'Drp__Storage__BlobServiceUri', value: account.properties.primaryEndpoints.blob }
              { name: 'Drp__Storage__QueueServiceUri', value: account.properties.primaryEndpoints.queue }
              { name: 'Drp__Storage__TableServiceUri', value: account.properties.primaryEndpoints.table }
              { name: 'Drp__Storage__ManagedIdentityClientId', value: jobsIdentityClientId }
              { name: 'Drp__Storage__RawContainer', value: names.rawContainer }
              { name: 'Drp__Storage__DataContainer', value: names.dataContainer }
              { name: 'Drp__Storage__ArrivalsQueue', value: names.arrivalsQueue }
              { name: 'Drp__Storage__RegistryTable', value: names.registryTable }
              { name: 'Drp__Storage__LedgerTable', value: names.ledgerTable }
              { name: 'Drp__Storage__SourceTable', value: names.sourceTable }
              { name: 'Drp__Storage__CcdVisitTable', value: names.ccdVisitTable }
              { name: 'Drp__Storage__VisitTable', value: names.visitTable }
              // The class names the queue the runner listens on (drp-jobs-<class>, JobsOptions.QueueName).
              { name: 'Drp__Jobs__MemoryClass', value: c.name }
              { name: 'Drp__Jobs__CompletionsQueue', value: names.completionsQueue }
              { name: 'Drp__Jobs__MaxDeliveryCount', value: string(c.maxDeliveryCount) }
              { name: 'Drp__Jobs__HeartbeatInterval', value: jobHeartbeatInterval }
              { name: 'Drp__Jobs__ServiceBusNamespace', value: '${serviceBusNamespace}.servicebus.windows.net' }
            ]
          }
        ]
      }
    }
  }
]

output jobNames string[] = [for (c, i) in memoryClasses: jobs[i].name]
