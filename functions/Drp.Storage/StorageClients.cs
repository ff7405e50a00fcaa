using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Drp.Storage;

/// <summary>The Azure Storage clients of one account, and the containers, queue and tables this system uses.</summary>
public sealed class StorageClients
{
    public StorageClients(DrpStorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException($"{DrpStorageOptions.SectionName}:ConnectionString is not set");
        }
        Options = options;
        Blobs = new BlobServiceClient(options.ConnectionString);
        // Queue messages are base64, the encoding Event Grid and the Functions QueueTrigger use.
        Queues = new QueueServiceClient(options.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        Tables = new TableServiceClient(options.ConnectionString);
    }

    public DrpStorageOptions Options { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }

    public TableServiceClient Tables { get; }

    public BlobContainerClient RawContainer => Blobs.GetBlobContainerClient(Options.RawContainer);

    public BlobContainerClient DataContainer => Blobs.GetBlobContainerClient(Options.DataContainer);

    public QueueClient ArrivalsQueue => Queues.GetQueueClient(Options.ArrivalsQueue);

    public TableClient Registry => Tables.GetTableClient(Options.RegistryTable);

    public TableClient Ledger => Tables.GetTableClient(Options.LedgerTable);

    public TableClient Sources => Tables.GetTableClient(Options.SourceTable);

    /// <summary>Creates every container, queue and table that is missing (idempotent).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        await RawContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await DataContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await ArrivalsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Registry.CreateIfNotExistsAsync(cancellationToken);
        await Ledger.CreateIfNotExistsAsync(cancellationToken);
        await Sources.CreateIfNotExistsAsync(cancellationToken);
    }
}
