using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Core.Tasks;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;

namespace Drp.Pipeline.Tests.Tasks;

/// <summary>
/// The built-in tasks against pipelines/drp.yaml: every runnable unit binds, step 1 runs the configuration the science
/// figures were measured with, and the pure step-2 and step-7 tasks give the tables their inputs imply.
/// </summary>
public sealed class PipelineTasksTests
{
    private static readonly IPipelineTask[] s_builtIn =
        [new ProcessFrameTask(), new ConsolidateSourceTableTask(), new ConsolidateVisitSummaryTask(), new MakeCcdVisitTableTask(), new MakeVisitTableTask()];

    private static string RepositoryPipeline()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "Serverless.Drp.sln")))
        {
            dir = dir.Parent;
        }
        return File.ReadAllText(Path.Combine(dir.FullName, "pipelines", "drp.yaml"));
    }

    [Fact]
    public void Registry_RepositoryPipeline_StepsOneTwoAndSevenBindAndTheRestWaitForTheirTasks()
    {
        var registry = new TaskRegistry(PipelineDefinitionLoader.LoadDefault(), s_builtIn).Validate();

        Assert.Equal(["step1", "step2", "step7"], registry.RunnableSteps);
        var e = Assert.Throws<PipelineDefinitionException>(() => registry.Bind("step3", "makeWarp"));
        Assert.Contains("no task class runs 'makeWarp'", e.Message);
        Assert.StartsWith("pipelines/drp.yaml:", e.Message);
    }

    [Fact]
    public void ProcessFrame_RepositoryPipeline_BindsExactlyTheBenchmarkedConfig()
    {
        var bound = TaskConfigBinder.Bind(new ProcessFrameTask(), PipelineDefinitionLoader.LoadDefault().Step("step1").Unit("processFrame"));

        // docs/benchmarks.md's science figures were measured with SingleFrameConfig.Default.
        Assert.Equal(SingleFrameConfig.Default, ((ProcessFrameConfig)bound.Config).ToSingleFrame());
    }

    [Fact]
    public void ProcessFrame_ThresholdRaisedInTheYaml_RunsAndHashesTheNewValue()
    {
        string yaml = RepositoryPipeline();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(yaml, "detection.thresholdSigma: 5.0"));

        var before = TaskConfigBinder.Bind(new ProcessFrameTask(), PipelineDefinitionLoader.Parse(yaml, "drp.yaml").Step("step1").Unit("processFrame"));
        var after = TaskConfigBinder.Bind(new ProcessFrameTask(),
            PipelineDefinitionLoader.Parse(yaml.Replace("detection.thresholdSigma: 5.0", "detection.thresholdSigma: 10.0"), "drp.yaml").Step("step1").Unit("processFrame"));

        Assert.Equal(10.0, ((ProcessFrameConfig)after.Config).ToSingleFrame().Detection.ThresholdSigma);
        Assert.Equal(SingleFrameConfig.Default.Detection with { ThresholdSigma = 10.0 }, ((ProcessFrameConfig)after.Config).ToSingleFrame().Detection);
        Assert.NotEqual(before.ConfigHash, after.ConfigHash);
    }

    private static CcdVisitSummary Summary(long visit, int detector, double ra, double dec, double? airmass = null) =>
        new(visit * 1000 + detector, visit, detector, "r", 31.2, 0.003, 0.05, 10, 40, 25, 3.5, 4.1, 4.0, 0.01, 1200, 35, 0.8, 1.7, 0.2,
            ra, dec, ra, dec + 0.1, ra + 0.1, dec + 0.1, ra + 0.1, dec, 30.0, 60000.5, airmass);

    private static TaskInputs Inputs(string connection, params (DataId Id, object Value)[] datasets) =>
        new(new Dictionary<string, IReadOnlyList<TaskDataset>> { [connection] = datasets.Select(d => new TaskDataset(d.Id, d.Value)).ToList() });

    [Fact]
    public void ConsolidateSourceTable_ThreeDetectors_RowsInDetectorOrder()
    {
        static CatalogTable Part(int detector, int rows)
        {
            var t = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
            for (int i = 0; i < rows; i++)
            {
                t.Rows.Add([.. SourceSchema.Columns.Select(c => c.Name == "detector" ? (object?)detector : null)]);
            }
            return t;
        }
        var visit = new DataId("Cam", 5, Band: "r");
        var inputs = Inputs("inputCatalogs", (visit with { Detector = 2 }, Part(2, 3)), (visit with { Detector = 0 }, Part(0, 2)), (visit with { Detector = 1 }, Part(1, 1)));

        var result = Assert.IsType<TaskResult.Succeeded>(new ConsolidateSourceTableTask().Run(visit, inputs, new NoConfig()));

        var table = (CatalogTable)result.Outputs["outputCatalog"].Single().Value;
        int det = table.IndexOf("detector");
        Assert.Equal([0, 0, 1, 2, 2, 2], table.Rows.Select(r => (int)r[det]!));
        Assert.IsType<TaskResult.Unprocessable>(new ConsolidateSourceTableTask().Run(visit, Inputs("inputCatalogs"), new NoConfig()));
    }

    [Fact]
    public void MakeVisitTable_VisitAcrossRaZero_CentreIsTheMeanDirectionAndDetectorsAreCounted()
    {
        var summaries = new[] { Summary(7, 0, 359.9, -30.0, 1.2), Summary(7, 1, 0.0, -30.0, 1.4) };
        var visitSummary = CcdVisitSchema.ToTable(summaries);

        var row = MakeVisitTableTask.VisitOf(7, visitSummary);

        Assert.Equal((7L, "r", 30.0, 60000.5, 2), (row.Visit, row.Band, row.ExpTime, row.ExpMidptMjd, row.DetectorCount));
        Assert.Equal(1.3, row.Airmass!.Value, 12);
        // Corners span RA 359.9..0.1 and Dec -30..-29.9: the centre is at RA 0, not 180.
        Assert.True(Math.Abs(row.Ra) < 1e-6 || Math.Abs(row.Ra - 360) < 1e-6, $"ra {row.Ra}");
        Assert.Equal(-29.95, row.Decl, 3);
    }

    [Fact]
    public void MakeCcdVisitTable_TwoVisits_EveryDetectorOnceInIdOrder()
    {
        var v1 = CcdVisitSchema.ToTable([Summary(2, 1, 10, 0), Summary(2, 0, 10, 0)]);
        var v2 = CcdVisitSchema.ToTable([Summary(1, 0, 10, 0)]);
        var inputs = Inputs("visitSummaries", (new DataId("Cam", 2), v1), (new DataId("Cam", 1), v2));

        var result = Assert.IsType<TaskResult.Succeeded>(new MakeCcdVisitTableTask().Run(new DataId("Cam"), inputs, new NoConfig()));

        var table = (CatalogTable)result.Outputs["table"].Single().Value;
        Assert.Equal([1000L, 2000L, 2001L], table.Rows.Select(r => (long)r[table.IndexOf("ccdVisitId")]!));
    }
}
