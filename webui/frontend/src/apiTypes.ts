export interface ApiErrorBody {
  error?: {
    code?: string;
    message?: string;
    path?: string | null;
    problems?: { path: string | null; message: string; module_id: number | null }[];
  };
}
