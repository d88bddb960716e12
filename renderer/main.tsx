// Renderer entry: picks the transport (preload bridge or WebSocket) and mounts the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { connectClient } from './transport/contract-client.ts';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={connectClient()} />
  </StrictMode>,
);
