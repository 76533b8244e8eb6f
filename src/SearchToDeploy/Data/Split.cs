
namespace SearchToDeploy.Data;

public enum Split { Train, Test }
