// The Function App (Durable Functions orchestrations, arrivals trigger, operator API) on Flex Consumption:
// scales to zero, per-function-group scaling with the Durable group kept apart, identity-based storage.
// Its app settings are exactly the keys the code reads (checked by tests/Drp.Infra.Tests).

@description('Region of the plan and the app.')
param location string

@description('Tags for every resource.')
param tags object

@description('Flex Consumption plan name.')
param planName string

@description('Function App name.')
param appName string

@description('Resource id of the Function App\'s user-assigned identity.')
param identityId string

@description('Client id of that identity (AzureWebJobsStorage__clientId, Drp__Storage__ManagedIdentityClientId).')
param identityClientId string

@description('Application Insights component the app reports to.')
param applicationInsightsName string

@description('Storage account: host storage, task hub and the system\'s data.')
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

@description('Durable task hub name (host.json: %DRP_TASK_HUB%).')
param taskHubName string

@description('Most instances.')
param maximumInstanceCount int

@description('Instance memory in MB.')
param instanceMemoryMB int

@description('Always-ready instances of the Durable Functions group.')
param durableAlwaysReadyInstances int

@description('Service Bus namespace name: the Function App sends container jobs to its memory-class queues.')
param serviceBusNamespace string

@description('Run that arrivals process themselves into (empty: ingest only).')
param arrivalRun string

@description('Detectors per visit of the instrument (0: unknown).')
param expectedDetectors int

@description('Quiet time after a visit\'s last arrival before its step 2 runs (TimeSpan).')
param visitQuietTime string

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${account.properties.primaryEndpoints.blob}${names.deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: durableAlwaysReadyInstances > 0 ? [{ name: 'durable', instanceCount: durableAlwaysReadyInstances }] : []
      }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Every name here is read by the host or by our code; the settings cross-check test enforces both ways.
      appSettings: [
        // Host storage (triggers, keys, Durable task hub): identity-based, no connection string.
        { name: 'AzureWebJobsStorage__blobServiceUri', value: account.properties.primaryEndpoints.blob }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: account.properties.primaryEndpoints.queue }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: account.properties.primaryEndpoints.table }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        // Telemetry with Microsoft Entra auth (the component has local auth off; the connection string names the
        // ingestion endpoint and carries no credential).
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        // host.json: "hubName": "%DRP_TASK_HUB%"
        { name: 'DRP_TASK_HUB', value: taskHubName }
        // DrpStorageOptions (section Drp:Storage): service URIs and the managed identity, never a connection string.
        { name: 'Drp__Storage__BlobServiceUri', value: account.properties.primaryEndpoints.blob }
        { name: 'Drp__Storage__QueueServiceUri', value: account.properties.primaryEndpoints.queue }
        { name: 'Drp__Storage__TableServiceUri', value: account.properties.primaryEndpoints.table }
        { name: 'Drp__Storage__ManagedIdentityClientId', value: identityClientId }
        { name: 'Drp__Storage__RawContainer', value: names.rawContainer }
        { name: 'Drp__Storage__DataContainer', value: names.dataContainer }
        { name: 'Drp__Storage__ArrivalsQueue', value: names.arrivalsQueue }
        { name: 'Drp__Storage__RegistryTable', value: names.registryTable }
        { name: 'Drp__Storage__LedgerTable', value: names.ledgerTable }
        { name: 'Drp__Storage__SourceTable', value: names.sourceTable }
        { name: 'Drp__Storage__CcdVisitTable', value: names.ccdVisitTable }
        { name: 'Drp__Storage__VisitTable', value: names.visitTable }
        // JobsOptions (section Drp:Jobs): container jobs go out on Service Bus (managed identity); their completions
        // come back on the Storage completions queue (the OnJobCompletion queue trigger).
        { name: 'Drp__Jobs__ServiceBusNamespace', value: '${serviceBusNamespace}.servicebus.windows.net' }
        { name: 'Drp__Jobs__CompletionsQueue', value: names.completionsQueue }
        // ProcessingOptions (section Drp:Processing): arrivals process themselves into this run; the pipeline is the
        // built-in one (pipelines/drp.yaml, embedded in the app).
        { name: 'Drp__Processing__ArrivalRun', value: arrivalRun }
        { name: 'Drp__Processing__CalibCollection', value: 'calib' }
        { name: 'Drp__Processing__ExpectedDetectors', value: string(expectedDetectors) }
        { name: 'Drp__Processing__VisitQuietTime', value: visitQuietTime }
      ]
    }
  }
}

output name string = app.name
