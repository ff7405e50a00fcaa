// The one storage account: raw images, data products, the Durable task hub, the arrivals and completions queues,
// the Registry, ledger and catalog tables. Shared-key access is off: every caller uses Microsoft Entra ID.

@description('Region of the account.')
param location string

@description('Tags for every resource.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Redundancy SKU.')
param skuName string

@description('Days deleted blobs and containers are kept.')
param softDeleteDays int

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

@description('Durable task hub name: its lease and large-message containers are created here.')
param taskHubName string

@description('Function App identity (resource id, names its role assignments): the Functions host and Durable need blob, queue and table data access.')
param functionsIdentityId string

@description('Principal id of the Function App identity.')
param functionsPrincipalId string

@description('Container jobs identity (resource id): reads raws and the Registry, writes products, ledger and Source rows.')
param jobsIdentityId string

@description('Principal id of the container jobs identity.')
param jobsPrincipalId string

@description('Operator (optional): uploads raws, reads products and tables.')
param operatorPrincipalId string

@description('Principal type of the operator.')
param operatorPrincipalType string

var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  blobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  queueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  tableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
}
var hub = toLower(taskHubName)
var hasOperator = !empty(operatorPrincipalId)

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: softDeleteDays }
    containerDeleteRetentionPolicy: { enabled: true, days: softDeleteDays }
  }
}

resource rawContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: names.rawContainer
  properties: { publicAccess: 'None' }
}

resource dataContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: names.dataContainer
  properties: { publicAccess: 'None' }
}

// Durable Functions (Azure Storage backend) keeps partition leases and oversized payloads in these containers.
resource taskHubContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for suffix in ['leases', 'largemessages']: {
    parent: blobService
    name: '${hub}-${suffix}'
    properties: { publicAccess: 'None' }
  }
]

// Flex Consumption deploys the Function App package from this container, with the app's identity.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: names.deploymentContainer
  properties: { publicAccess: 'None' }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource arrivalsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = {
  parent: queueService
  name: names.arrivalsQueue
}

resource completionsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = {
  parent: queueService
  name: names.completionsQueue
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource registryTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: names.registryTable
}

resource ledgerTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: names.ledgerTable
}

resource sourceTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: names.sourceTable
}

resource ccdVisitTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: names.ccdVisitTable
}

resource visitTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: names.visitTable
}

// ---- Function App: the host's own storage (AzureWebJobsStorage) and the Durable task hub need the account. ----

resource functionsBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, functionsIdentityId, roles.blobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionsQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, functionsIdentityId, roles.queueDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionsTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, functionsIdentityId, roles.tableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Container jobs: each role on the one container, queue or table it needs. ----

resource jobsRawRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(rawContainer.id, jobsIdentityId, roles.blobDataReader)
  scope: rawContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataReader)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsDataWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataContainer.id, jobsIdentityId, roles.blobDataContributor)
  scope: dataContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsRegistryRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registryTable.id, jobsIdentityId, roles.tableDataReader)
  scope: registryTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataReader)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsLedgerWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ledgerTable.id, jobsIdentityId, roles.tableDataContributor)
  scope: ledgerTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsSourceWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sourceTable.id, jobsIdentityId, roles.tableDataContributor)
  scope: sourceTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsCcdVisitWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ccdVisitTable.id, jobsIdentityId, roles.tableDataContributor)
  scope: ccdVisitTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsVisitWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(visitTable.id, jobsIdentityId, roles.tableDataContributor)
  scope: visitTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobsCompletionsSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(completionsQueue.id, jobsIdentityId, roles.queueDataMessageSender)
  scope: completionsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataMessageSender)
    principalId: jobsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Operator (optional): upload raws (which starts ingest), read products and tables. ----

resource operatorRawWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasOperator) {
  name: guid(rawContainer.id, operatorPrincipalId, roles.blobDataContributor)
  scope: rawContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorDataRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasOperator) {
  name: guid(dataContainer.id, operatorPrincipalId, roles.blobDataReader)
  scope: dataContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorTablesRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasOperator) {
  name: guid(account.id, operatorPrincipalId, roles.tableDataReader)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
