using System.ComponentModel.DataAnnotations;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Drp.Storage.Caching;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Resilience;
using Microsoft.Extensions.Logging;

namespace Drp.Storage;

/// <summary>
/// The Azure Storage clients of one account, and the containers, queues and tables this system uses. Every Blob, Queue
/// and Table call goes through one <see cref="StorageResilience"/> pipeline per account, the only retry in force: the
/// dataset store retries whole operations (a body cut short is read again too); the Blob, Queue and Table clients here
/// have the pipeline in the SDK's retry slot (each request retried, its buffered body included).
/// </summary>
public sealed class StorageClients
{
    private readonly BlobServiceClient _storeBlobs;

    /// <param name="options">Account and names.</param>
    /// <param name="resilience">Retry, timeouts and concurrency (defaults when null).</param>
    /// <param name="cache">The local read-through cache (none when null).</param>
    /// <param name="faults">Fault injection (tests, <c>drp demo --inject-faults</c>); off when null or its rate is 0.</param>
    /// <param name="loggerFactory">Where retries and cache decisions are logged.</param>
    /// <param name="credential">Overrides the credential the service URIs are used with (tests, tools).</param>
    public StorageClients(DrpStorageOptions options, StorageResilienceOptions? resilience = null, DatasetCacheOptions? cache = null,
        FaultInjectionOptions? faults = null, ILoggerFactory? loggerFactory = null, TokenCredential? credential = null)
    {
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
        {
            throw new InvalidOperationException(string.Join("; ", problems.Select(p => p.ErrorMessage)));
        }
        // Service URIs (Azure): one Microsoft Entra credential for all three services; else the connection string.
        credential = options.UsesServiceUris ? credential ?? CredentialFor(options) : null;
        Options = options;
        Metrics = new DatasetStoreMetrics();
        // The store's Blob client: no retry in the pipeline (the store retries whole operations, so a body cut short is read again too).
        var storeBlobOptions = new BlobClientOptions();
        storeBlobOptions.Retry.MaxRetries = 0;
        // Every other client: the resilience pipeline in the SDK's retry slot (each request retried, a buffered body included).
        var blobOptions = new BlobClientOptions();
        var tableOptions = new TableClientOptions();
        // Queue messages are base64, the encoding Event Grid and the Functions QueueTrigger use.
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        if (faults is { Rate: > 0 })
        {
            BlobFaults = new FaultInjectionPolicy(faults);
            storeBlobOptions.AddPolicy(BlobFaults, HttpPipelinePosition.PerRetry);
            // A body the SDK has buffered is parsed after the retry slot: a cut short there is the wire proxy's to test.
            blobOptions.AddPolicy(new FaultInjectionPolicy(faults, FaultKinds.All & ~FaultKinds.TruncatedBody), HttpPipelinePosition.PerRetry);
            if (faults.ApplyToTables)
            {
                TableFaults = new FaultInjectionPolicy(faults, FaultKinds.All & ~FaultKinds.TruncatedBody);
                tableOptions.AddPolicy(TableFaults, HttpPipelinePosition.PerRetry);
            }
        }
        _storeBlobs = credential is null
            ? new BlobServiceClient(options.ConnectionString, storeBlobOptions)
            : new BlobServiceClient(new Uri(options.BlobServiceUri!), credential, storeBlobOptions);
        Resilience = new StorageResilience(resilience ?? new StorageResilienceOptions(), _storeBlobs.AccountName, Metrics,
            loggerFactory?.CreateLogger<StorageResilience>());
        blobOptions.RetryPolicy = Resilience.AsHttpPolicy("blob");
        tableOptions.RetryPolicy = Resilience.AsHttpPolicy("table");
        queueOptions.RetryPolicy = Resilience.AsHttpPolicy("queue");
        Blobs = credential is null
            ? new BlobServiceClient(options.ConnectionString, blobOptions)
            : new BlobServiceClient(new Uri(options.BlobServiceUri!), credential, blobOptions);
        Queues = credential is null
            ? new QueueServiceClient(options.ConnectionString, queueOptions)
            : new QueueServiceClient(new Uri(options.QueueServiceUri!), credential, queueOptions);
        Tables = credential is null
            ? new TableServiceClient(options.ConnectionString, tableOptions)
            : new TableServiceClient(new Uri(options.TableServiceUri!), credential, tableOptions);
        Cache = cache is { MaxBytes: > 0 } ? new DatasetCache(cache, loggerFactory?.CreateLogger<DatasetCache>()) : null;
        Data = StoreFor(options.DataContainer);
    }

    /// <summary>
    /// The managed identity named by <see cref="DrpStorageOptions.ManagedIdentityClientId"/> (no probing of other
    /// credential sources in Azure), else <see cref="DefaultAzureCredential"/> (e.g. a developer's az login).
    /// </summary>
    public static TokenCredential CredentialFor(DrpStorageOptions options) =>
        string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId));

    public DrpStorageOptions Options { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }

    public TableServiceClient Tables { get; }

    /// <summary>The account's resilience pipeline.</summary>
    public StorageResilience Resilience { get; }

    /// <summary>The local cache, or null when it is off.</summary>
    public DatasetCache? Cache { get; }

    /// <summary>Counters of the dataset store's reads, writes, retries and cache hits.</summary>
    public DatasetStoreMetrics Metrics { get; }

    /// <summary>The fault injection policy on the dataset store's Blob client, or null when it is off.</summary>
    public FaultInjectionPolicy? BlobFaults { get; }

    /// <summary>The fault injection policy on the Table clients, or null when it is off.</summary>
    public FaultInjectionPolicy? TableFaults { get; }

    /// <summary>The dataset store of the data container.</summary>
    public DatasetStore Data { get; }

    public BlobContainerClient RawContainer => Blobs.GetBlobContainerClient(Options.RawContainer);

    public BlobContainerClient DataContainer => Blobs.GetBlobContainerClient(Options.DataContainer);

    public QueueClient ArrivalsQueue => Queues.GetQueueClient(Options.ArrivalsQueue);

    public TableClient Registry => Tables.GetTableClient(Options.RegistryTable);

    public TableClient Ledger => Tables.GetTableClient(Options.LedgerTable);

    public TableClient Sources => Tables.GetTableClient(Options.SourceTable);

    /// <summary>The serving table of CcdVisit rows.</summary>
    public TableClient CcdVisits => Tables.GetTableClient(Options.CcdVisitTable);

    /// <summary>The serving table of Visit rows.</summary>
    public TableClient Visits => Tables.GetTableClient(Options.VisitTable);

    /// <summary>The serving table of a catalog with one (<see cref="Catalogs.CatalogTableKeys.All"/>), or null.</summary>
    public TableClient? ServingTable(string catalog) => catalog switch
    {
        "Source" => Sources,
        "CcdVisit" => CcdVisits,
        "Visit" => Visits,
        _ => null,
    };

    /// <summary>A dataset store on another container of this account, sharing its resilience pipeline and cache.</summary>
    public DatasetStore StoreFor(string container) => new(_storeBlobs.GetBlobContainerClient(container), Resilience, Cache);

    /// <summary>Creates every container, queue and table that is missing (idempotent).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        await RawContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await DataContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await ArrivalsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Registry.CreateIfNotExistsAsync(cancellationToken);
        await Ledger.CreateIfNotExistsAsync(cancellationToken);
        await Sources.CreateIfNotExistsAsync(cancellationToken);
        await CcdVisits.CreateIfNotExistsAsync(cancellationToken);
        await Visits.CreateIfNotExistsAsync(cancellationToken);
    }
}
