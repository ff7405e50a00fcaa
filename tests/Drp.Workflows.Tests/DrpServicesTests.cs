using Drp.Storage.Catalogs;
using Drp.Workflows.Activities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Drp.Workflows.Tests;

/// <summary>The wiring of <see cref="DrpWorkflows.AddDrpServices"/>: one writer stage per process, its bound from configuration, checked at start-up.</summary>
public sealed class DrpServicesTests
{
    private static ServiceProvider Build(string? maxConcurrentBatches)
    {
        var settings = new Dictionary<string, string?> { ["Drp:Storage:ConnectionString"] = "UseDevelopmentStorage=true" };
        if (maxConcurrentBatches is not null)
        {
            settings["Drp:Storage:Tables:MaxConcurrentBatches"] = maxConcurrentBatches;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddDrpServices(configuration).BuildServiceProvider();
    }

    [Fact]
    public void AddDrpServices_TablesSection_OneWriterStageWithTheConfiguredBoundServesEveryActivity()
    {
        using var services = Build("5");

        var writer = services.GetRequiredService<TableCatalogWriter>();

        Assert.Same(writer, services.GetRequiredService<TableCatalogWriter>());
        Assert.Equal(5, writer.MaxConcurrentBatches);
        Assert.NotNull(services.GetRequiredService<RunQuantumActivity>());
    }

    [Fact]
    public void AddDrpServices_NoTablesSection_UsesTheDefaultBound()
    {
        using var services = Build(null);

        Assert.Equal(new TableWriterOptions().MaxConcurrentBatches, services.GetRequiredService<TableCatalogWriter>().MaxConcurrentBatches);
    }

    [Fact]
    public void AddDrpServices_BoundZero_FailsStartupValidationNamingTheSetting()
    {
        using var services = Build("0");

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(nameof(TableWriterOptions.MaxConcurrentBatches), e.Message);
    }
}
