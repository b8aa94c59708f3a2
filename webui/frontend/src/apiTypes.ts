export interface ApiErrorBody {
  error?: { code?: string; message?: string; path?: string | null };
}
