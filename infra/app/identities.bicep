// One user-assigned identity per component, so each gets only the roles it needs.

@description('Region of the identities.')
param location string

@description('Tags for every resource.')
param tags object

@description('Identity of the Function App (host storage, task hub, arrivals, job dispatch).')
param functionsIdentityName string

@description('Identity of the container jobs (data products, tables, job queues, image pull).')
param jobsIdentityName string

@description('Identity the KEDA Service Bus scaler reads queue lengths with (kept apart from the jobs\' own identity).')
param scalerIdentityName string

@description('Identity Event Grid delivers BlobCreated events with.')
param eventsIdentityName string

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: functionsIdentityName
  location: location
  tags: tags
}

resource jobsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: jobsIdentityName
  location: location
  tags: tags
}

resource scalerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: scalerIdentityName
  location: location
  tags: tags
}

resource eventsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: eventsIdentityName
  location: location
  tags: tags
}

output functionsId string = functionsIdentity.id
output functionsClientId string = functionsIdentity.properties.clientId
output functionsPrincipalId string = functionsIdentity.properties.principalId
output jobsId string = jobsIdentity.id
output jobsClientId string = jobsIdentity.properties.clientId
output jobsPrincipalId string = jobsIdentity.properties.principalId
output scalerId string = scalerIdentity.id
output scalerPrincipalId string = scalerIdentity.properties.principalId
output eventsId string = eventsIdentity.id
output eventsPrincipalId string = eventsIdentity.properties.principalId
